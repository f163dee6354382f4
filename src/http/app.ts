import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { sql } from 'kysely';
import { accountRoutes } from '../modules/accounts/account.routes.ts';
import { authRoutes } from '../modules/auth/auth.routes.ts';
import { billRoutes } from '../modules/billing/bill.routes.ts';
import { trafficRuleRoutes } from '../modules/billing/traffic-rule.routes.ts';
import { gatewayRoutes } from '../modules/gateways/gateway.routes.ts';
import { groupRoutes } from '../modules/groups/group.routes.ts';
import { jobRoutes } from '../modules/jobs/job.routes.ts';
import { notificationRoutes } from '../modules/notifications/notification.routes.ts';
import { policyRoutes } from '../modules/policies/policy.routes.ts';
import { provisioningRoutes } from '../modules/provisioning/provisioning.routes.ts';
import { catalogRoutes } from '../modules/rating/catalog.routes.ts';
import { topUpRoutes } from '../modules/rating/top-up.routes.ts';
import { poolRoutes } from '../modules/rating/pool.routes.ts';
import { topUpProductRoutes } from '../modules/rating/top-up-product.routes.ts';
import { orderRoutes } from '../modules/orders/order.routes.ts';
import { invoiceRoutes } from '../modules/orders/invoice.routes.ts';
import { sessionRoutes } from '../modules/sessions/session.routes.ts';
import { simRoutes } from '../modules/sims/sim.routes.ts';
import { cdrRoutes } from '../modules/usage/cdr.routes.ts';
import { usageRoutes } from '../modules/usage/usage.routes.ts';
import { eventRoutes } from '../modules/events/event.routes.ts';
import { alertRoutes } from '../modules/alerts/alert.routes.ts';
import { webhookRoutes } from '../modules/webhooks/webhook.routes.ts';
import { ruleRoutes } from '../modules/rules/rule.routes.ts';
import type { Services } from '../services.ts';
import { registerAuthentication } from './auth.ts';
import { referencePage } from './docs-page.ts';
import { registerIdempotency } from './idempotency.ts';
import { createMetrics, registerHttpMetrics } from './metrics.ts';
import { errorHandler, problem, sendProblem } from './problem.ts';
import { RateLimiter } from './rate-limit.ts';

export const API_VERSION = '0.1.0';
const MAX_CSV_BYTES = 256 * 1024 * 1024;

export interface AppOptions {
  logger?: Logger | false;
  /** Readiness: false while starting or stopping. */
  isReady?: () => boolean;
  /** The registry served at /metrics (shared with the RADIUS server); a new one when absent. */
  registry?: Registry;
}

/** Builds the HTTP application: REST API under /api/v1, OpenAPI, reference page, health and metrics. */
export async function buildApp(s: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger || undefined,
    logger: options.logger === undefined ? false : undefined,
    // NOTE: one log line per request would dominate the hot paths; requests are counted in /metrics, errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: s.config.http.trustProxy,
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false } },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem(404, 'route_not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));

  // NOTE: graceful close: responses finished after close began carry `Connection: close`, so keep-alive
  // sockets end with their last response instead of holding the close open until the idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    app.server.closeIdleConnections();
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  const metrics = createMetrics(options.registry);
  registerHttpMetrics(app, metrics);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Meridian API',
        version: API_VERSION,
        description:
          'IoT connectivity management: accounts, SIM inventory and lifecycle, change records and bulk jobs. ' +
          'Authenticate with an API key (`Authorization: Bearer mk_…` or `X-API-Key`) or a login session cookie. ' +
          'Errors are `application/problem+json` with a stable `code`. POST requests honour `Idempotency-Key`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'API key mk_…' },
          session: { type: 'apiKey', in: 'cookie', name: 'meridian_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  registerAuthentication(app, s.auth, new RateLimiter(s.config.security.rateLimitPerSecond, s.config.security.rateLimitBurst));
  registerIdempotency(app, s.db, s.clock);

  await app.register(
    async (api) => {
      // CSV uploads (SIM imports, CDR files) arrive as text bodies.
      api.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: MAX_CSV_BYTES }, (_req, body, done) => done(null, body));
      await api.register(authRoutes(s));
      await api.register(accountRoutes(s));
      await api.register(groupRoutes(s));
      await api.register(simRoutes(s));
      await api.register(jobRoutes(s));
      await api.register(provisioningRoutes(s));
      await api.register(cdrRoutes(s));
      await api.register(gatewayRoutes(s));
      await api.register(sessionRoutes(s));
      await api.register(usageRoutes(s));
      await api.register(catalogRoutes(s));
      await api.register(topUpRoutes(s));
      await api.register(poolRoutes(s));
      await api.register(billRoutes(s));
      await api.register(trafficRuleRoutes(s));
      await api.register(eventRoutes(s));
      await api.register(alertRoutes(s));
      await api.register(webhookRoutes(s));
      await api.register(notificationRoutes(s));
      await api.register(policyRoutes(s));
      await api.register(topUpProductRoutes(s));
      await api.register(orderRoutes(s));
      await api.register(invoiceRoutes(s));
      await api.register(ruleRoutes(s));
    },
    { prefix: '/api/v1' },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html').send(referencePage(app.swagger())));
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const ready = options.isReady?.() ?? true;
    const database = await sql`SELECT 1`.execute(s.db).then(() => true, () => false);
    if (!ready || !database) return sendProblem(reply, problem(503, 'not_ready', ready ? 'database unreachable' : 'starting or shutting down'));
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  return app;
}

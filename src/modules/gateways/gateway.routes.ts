import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { DEFAULT_COA_PORT, type Gateway, maskSecret, SECRET_MAX_LENGTH, SECRET_MIN_LENGTH } from './gateway.ts';

const GatewaySchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    address: z.string().describe('IP address or CIDR block the gateway sends from, canonical form'),
    secretMasked: z.string().describe('first two characters of the shared secret; the secret itself is never returned'),
    coaPort: z.number().int().describe('UDP port for Disconnect-Request / CoA (RFC 5176)'),
    destinationClassAttribute: z
      .string()
      .nullable()
      .describe('the Accounting-Request attribute the gateway reports the destination class in, for split-billing rules (attr:N or vsa:VENDOR:TYPE); null: none'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Gateway' });

const toDto = (g: Gateway) => ({
  id: g.id,
  accountId: g.accountId,
  name: g.name,
  address: g.address,
  secretMasked: maskSecret(g.secret),
  coaPort: g.coaPort,
  destinationClassAttribute: g.destinationClassAttribute,
  createdAt: iso(g.createdAt),
  updatedAt: iso(g.updatedAt),
});

const name = z.string().trim().min(1).max(100);
const address = z.string().max(100).describe('an IPv4 address (10.1.2.3), an IPv6 address (2001:db8::1) or a CIDR block (10.1.0.0/16, 2001:db8::/32)');
const secret = z.string().min(SECRET_MIN_LENGTH).max(SECRET_MAX_LENGTH).describe(`RADIUS shared secret, ${SECRET_MIN_LENGTH}-${SECRET_MAX_LENGTH} characters`);
const coaPort = z.number().int().min(1).max(65535);
const destinationClassAttribute = z
  .string()
  .max(30)
  .nullable()
  .describe('attr:N for a standard attribute (attr:11 is Filter-Id) or vsa:VENDOR:TYPE for a vendor-specific one; null: the gateway reports no destination class');
const tags = ['gateways'];

export const gatewayRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/gateways', {
      schema: {
        tags,
        summary: 'List network gateways (RADIUS clients, NAS) visible to the caller',
        querystring: z.object({ accountId: z.string().optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(GatewaySchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, accountId } = req.query;
        const items = await s.gateways.listGateways(principalOf(req), { accountId, after: cursor, limit });
        return { items: items.map(toDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/gateways', {
      schema: {
        tags,
        summary: "Register a gateway in the caller's account (operator admins)",
        description: 'RADIUS packets are accepted from the address or block; the most specific block wins when blocks overlap. An address can be registered once.',
        body: z.object({ name, address, secret, coaPort: coaPort.default(DEFAULT_COA_PORT), destinationClassAttribute: destinationClassAttribute.optional() }).strict(),
        response: { 201: GatewaySchema, ...problems(400, 401, 403, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return toDto(await s.gateways.createGateway(principalOf(req), req.body));
      },
    });
    app.get('/gateways/:id', {
      schema: { tags, summary: 'One gateway', params: IdParam, response: { 200: GatewaySchema, ...problems(401, 404) } },
      handler: async (req) => toDto(await s.gateways.getGateway(principalOf(req), req.params.id)),
    });
    app.patch('/gateways/:id', {
      schema: {
        tags,
        summary: 'Change the name, address, shared secret or CoA port of a gateway',
        params: IdParam,
        body: z
          .object({ name: name.optional(), address: address.optional(), secret: secret.optional(), coaPort: coaPort.optional(), destinationClassAttribute: destinationClassAttribute.optional() })
          .strict(),
        response: { 200: GatewaySchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => toDto(await s.gateways.updateGateway(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/gateways/:id', {
      schema: { tags, summary: 'Remove a gateway; its packets are dropped from then on', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.gateways.deleteGateway(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });
  };

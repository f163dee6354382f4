import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, IdParam, iso, isoOrNull, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { EventTypePattern } from '../events/event.schemas.ts';
import { type Delivery, type DeliveryAttempt, DELIVERY_STATES, ENDPOINT_STATES, URL_MAX_LENGTH, type WebhookEndpoint } from './webhook.ts';

const EndpointSchema = z
  .object({
    id: z.string(),
    accountId: z.string().describe('the endpoint receives the events of this account and of every account below it'),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()).describe('event types or patterns (sim.*, *) the endpoint receives'),
    state: z.enum(ENDPOINT_STATES).describe('enabled, or paused (by a user, or after failing continuously); a paused endpoint gets nothing'),
    pausedReason: z.string().nullable(),
    pausedAt: Timestamp.nullable(),
    consecutiveFailures: z.number().int().describe('failed attempts in a row; 0 after a success'),
    failingSince: Timestamp.nullable().describe('first failure of the current run of failures'),
    secretHint: z.string().describe('the first characters of the signing secret'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });

const EndpointWithSecretSchema = EndpointSchema.extend({
  secret: z.string().describe('signing secret (whsec_…): shown only in this answer; keep it to verify Meridian-Signature'),
}).meta({ id: 'WebhookEndpointWithSecret' });

const AttemptSchema = z.object({
  attempt: z.number().int(),
  startedAt: Timestamp,
  durationMs: z.number().int(),
  statusCode: z.number().int().nullable().describe("the receiver's HTTP status; null when none came (refused, timeout)"),
  error: z.string().nullable(),
  ok: z.boolean(),
});

const DeliverySchema = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    replay: z.boolean().describe('queued by a replay request'),
    state: z.enum(DELIVERY_STATES).describe('pending (not yet delivered; retried), delivered, failed (gave up)'),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

const endpointDto = (e: WebhookEndpoint) => ({
  id: e.id,
  accountId: e.accountId,
  url: e.url,
  description: e.description,
  eventTypes: e.eventTypes,
  state: e.state,
  pausedReason: e.pausedReason,
  pausedAt: isoOrNull(e.pausedAt),
  consecutiveFailures: e.consecutiveFailures,
  failingSince: isoOrNull(e.failingSince),
  secretHint: `${e.secret.slice(0, 10)}…`,
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

const deliveryDto = (d: Delivery) => ({
  id: String(d.id),
  endpointId: d.endpointId,
  eventId: d.eventId,
  eventType: d.eventType,
  replay: d.replay,
  state: d.state,
  attempts: d.attempts,
  nextAttemptAt: isoOrNull(d.nextAttemptAt),
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  createdAt: iso(d.createdAt),
  finishedAt: isoOrNull(d.finishedAt),
});

const attemptDto = (a: DeliveryAttempt) => ({ ...a, startedAt: iso(a.startedAt) });

const url = z.string().max(URL_MAX_LENGTH).describe('http:// or https:// URL that takes POST requests');
const eventTypes = z.array(EventTypePattern).min(1).max(50).describe('event types or patterns: sim.state_changed, sim.*, *');
const description = z.string().trim().max(500).nullable();
const tags = ['webhooks'];

export const webhookRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/webhooks', {
      schema: {
        tags,
        summary: "Webhook endpoints of the caller's account and the accounts below it",
        querystring: z.object({ accountId: z.string().max(100).optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(EndpointSchema), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const { accountId, cursor, limit } = req.query;
        const items = await s.webhooks.listEndpoints(principalOf(req), { accountId, after: cursor, limit });
        return { items: items.map(endpointDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/webhooks', {
      schema: {
        tags,
        summary: 'Register a webhook endpoint',
        description:
          'The endpoint receives the events of its account and of every account below it whose type matches `eventTypes`, as signed POST ' +
          'requests (see docs/events.md). The answer carries the signing secret once.',
        body: z
          .object({
            url,
            eventTypes: eventTypes.default(['*']),
            description: description.optional(),
            accountId: z.string().max(100).optional().describe("the endpoint's account (default: the caller's)"),
          })
          .strict(),
        response: { 201: EndpointWithSecretSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        const e = await s.webhooks.createEndpoint(principalOf(req), req.body);
        reply.status(201);
        return { ...endpointDto(e), secret: e.secret };
      },
    });
    app.get('/webhooks/:id', {
      schema: { tags, summary: 'One webhook endpoint (without its secret)', params: IdParam, response: { 200: EndpointSchema, ...problems(401, 404) } },
      handler: async (req) => endpointDto(await s.webhooks.getEndpoint(principalOf(req), req.params.id)),
    });
    app.patch('/webhooks/:id', {
      schema: {
        tags,
        summary: 'Change the URL, event types, description or state of an endpoint',
        description: '`state: "enabled"` resumes a paused endpoint: deliveries still pending go out again; use replay for what it missed while paused.',
        params: IdParam,
        body: z.object({ url: url.optional(), eventTypes: eventTypes.optional(), description: description.optional(), state: z.enum(ENDPOINT_STATES).optional() }).strict(),
        response: { 200: EndpointSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => endpointDto(await s.webhooks.updateEndpoint(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/webhooks/:id', {
      schema: { tags, summary: 'Remove an endpoint and its delivery log', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.webhooks.deleteEndpoint(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });
    app.post('/webhooks/:id/secret', {
      schema: {
        tags,
        summary: 'Replace the signing secret; the new one is shown once and signs from now on',
        params: IdParam,
        response: { 200: EndpointWithSecretSchema, ...problems(401, 403, 404) },
      },
      handler: async (req) => {
        const e = await s.webhooks.rotateSecret(principalOf(req), req.params.id);
        return { ...endpointDto(e), secret: e.secret };
      },
    });
    app.get('/webhooks/:id/deliveries', {
      schema: {
        tags,
        summary: 'Deliveries to an endpoint, newest first',
        params: IdParam,
        querystring: z.object({
          state: csvList(z.enum(DELIVERY_STATES)).optional().describe('pending, delivered, failed; comma-separated'),
          eventId: z.string().max(100).optional(),
          cursor: cursorSchema,
          limit: limitSchema,
        }),
        response: { 200: page(DeliverySchema), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const { state, eventId, cursor, limit } = req.query;
        const result = await s.webhooks.listDeliveries(principalOf(req), req.params.id, { states: state, eventId, cursor, limit });
        return { items: result.items.map(deliveryDto), nextCursor: result.nextCursor };
      },
    });
    app.get('/webhooks/:id/deliveries/:deliveryId', {
      schema: {
        tags,
        summary: 'One delivery with every attempt: time, duration, status code, error',
        params: z.object({ id: z.string().min(1).max(100), deliveryId: z.string().regex(/^\d{1,18}$/, 'must be a delivery id') }),
        response: { 200: DeliverySchema.extend({ log: z.array(AttemptSchema) }), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const d = await s.webhooks.getDelivery(principalOf(req), req.params.id, Number(req.params.deliveryId));
        return { ...deliveryDto(d), log: d.log.map(attemptDto) };
      },
    });
    app.post('/webhooks/:id/replay', {
      schema: {
        tags,
        summary: 'Send events again to an endpoint: one event, or every matching event since a time',
        description:
          'Queues new deliveries with the same event ids (receivers deduplicate by id). `eventId`: that event, whatever the endpoint\'s event types; ' +
          '`from` (and `to`): every event of the endpoint\'s subtree matching its event types in the range, at most 100,000.',
        params: IdParam,
        body: z.union([z.object({ eventId: z.string().min(1).max(100) }).strict(), z.object({ from: Timestamp, to: Timestamp.optional() }).strict()]),
        response: { 202: z.object({ deliveries: z.number().int().describe('deliveries queued') }), ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => {
        const b = req.body;
        const result = await s.webhooks.replay(principalOf(req), req.params.id, 'eventId' in b ? { eventId: b.eventId } : { from: new Date(b.from), to: b.to ? new Date(b.to) : undefined });
        reply.status(202);
        return result;
      },
    });
  };

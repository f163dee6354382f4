import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, limitSchema, nextIdCursor, page, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { TrafficRuleRecord } from './traffic-rule.service.ts';

const TrafficRuleSchema = z
  .object({
    id: z.string(),
    accountId: z.string().describe('the rule applies to the SIMs of this account and of the accounts under it'),
    priority: z.number().int().describe('rules are tried lowest first; the first match wins'),
    apn: z.string().nullable().describe('APN to match, exactly or as a prefix ending in *; null: any'),
    zoneId: z.string().nullable().describe('zone the usage was rated in; null: any'),
    destinationClass: z
      .string()
      .nullable()
      .describe("destination class the gateway reported (the CDR destination column, or the RADIUS attribute named by the gateway's destinationClassAttribute), exactly or as a prefix ending in *; null: any"),
    trafficClass: z.string(),
    payerAccountId: z.string().describe('the account billed for matching usage'),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'TrafficRule' });

const dto = (r: TrafficRuleRecord) => ({ ...r, createdAt: r.createdAt.toISOString() });

export const trafficRuleRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['bills'];
    app.post('/traffic-rules', {
      schema: {
        tags,
        summary: 'Create a split-billing rule (分离计费; operator and reseller admins)',
        description:
          'Usage of the SIMs of the account (and the accounts under it) that matches the APN, destination class and/or zone gets the traffic class and is billed to the payer account from now on; usage recorded before keeps its payer.',
        body: z
          .object({
            accountId: z.string().optional(),
            priority: z.number().int().min(0).max(1_000_000).optional(),
            apn: z.string().max(101).nullable().optional(),
            zoneId: z.string().max(32).nullable().optional(),
            destinationClass: z.string().max(65).nullable().optional(),
            trafficClass: z.string().min(1).max(32),
            payerAccountId: z.string().min(1),
          })
          .strict(),
        response: { 201: TrafficRuleSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => reply.code(201).send(dto(await s.trafficRules.createRule(principalOf(req), req.body))),
    });
    app.get('/traffic-rules', {
      schema: {
        tags,
        summary: 'List split-billing rules of your account and the accounts under it',
        querystring: z.object({ accountId: z.string().optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(TrafficRuleSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const items = await s.trafficRules.listRules(principalOf(req), { accountId: req.query.accountId, after: req.query.cursor, limit: req.query.limit });
        return { items: items.map(dto), nextCursor: nextIdCursor(items, req.query.limit) };
      },
    });
    app.get('/traffic-rules/:id', {
      schema: { tags, summary: 'One split-billing rule', params: IdParam, response: { 200: TrafficRuleSchema, ...problems(401, 404) } },
      handler: async (req) => dto(await s.trafficRules.getRule(principalOf(req), req.params.id)),
    });
    app.delete('/traffic-rules/:id', {
      schema: { tags, summary: 'Delete a split-billing rule', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.trafficRules.deleteRule(principalOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
  };

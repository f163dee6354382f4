import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, limitSchema, nextIdCursor, page, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import {
  PlanChangeBody,
  planChangeOf,
  PlanCreateBody,
  PlanSchema,
  planDto,
  planInputOf,
  SampleLoadSchema,
  ZoneCreateBody,
  ZonePatchBody,
  ZoneSchema,
  zoneDto,
} from './catalog.schemas.ts';

const MONEY_NOTE = 'Money is a decimal string in the major unit of the plan\'s currency ("19.15"), exact to 6 decimal places; data sizes are bytes.';

export const catalogRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const zoneTags = ['zones'];
    app.get('/zones', {
      schema: {
        tags: zoneTags,
        summary: 'List zones (sets of countries and networks that plans cover)',
        querystring: z.object({ cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(ZoneSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const items = await s.catalog.listZones(principalOf(req), { after: req.query.cursor, limit: req.query.limit });
        return { items: items.map(zoneDto), nextCursor: nextIdCursor(items, req.query.limit) };
      },
    });
    app.post('/zones', {
      schema: {
        tags: zoneTags,
        summary: 'Create a zone (operator admins)',
        description: 'A zone covers whole countries and/or single networks (MCC-MNC) of other countries. Zones may overlap.',
        body: ZoneCreateBody,
        response: { 201: ZoneSchema, ...problems(400, 401, 403, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return zoneDto(await s.catalog.createZone(principalOf(req), req.body));
      },
    });
    app.get('/zones/:id', {
      schema: { tags: zoneTags, summary: 'One zone', params: IdParam, response: { 200: ZoneSchema, ...problems(401, 404) } },
      handler: async (req) => zoneDto(await s.catalog.getZone(principalOf(req), req.params.id)),
    });
    app.patch('/zones/:id', {
      schema: {
        tags: zoneTags,
        summary: 'Change the name, countries or networks of a zone (operator admins); plans covering it are rated by the new zone at once',
        params: IdParam,
        body: ZonePatchBody,
        response: { 200: ZoneSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => zoneDto(await s.catalog.updateZone(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/zones/:id', {
      schema: {
        tags: zoneTags,
        summary: 'Delete a zone no plan version names (operator admins); 409 zone_in_use lists the plans',
        params: IdParam,
        response: { 204: z.null(), ...problems(401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        await s.catalog.deleteZone(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });

    const planTags = ['plans'];
    app.get('/plans', {
      schema: {
        tags: planTags,
        summary: 'List the rate plans (套餐) visible to the caller: its own, those of the accounts above it and below it',
        description: MONEY_NOTE,
        querystring: z.object({
          accountId: z.string().optional().describe('only plans owned by this account'),
          zoneId: z.string().optional().describe('only plans with a version covering this zone'),
          cursor: cursorSchema,
          limit: limitSchema,
        }),
        response: { 200: page(PlanSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { accountId, zoneId, cursor, limit } = req.query;
        const items = await s.catalog.listPlans(principalOf(req), { accountId, zoneId, after: cursor, limit });
        return { items: items.map(planDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/plans', {
      schema: {
        tags: planTags,
        summary: "Create a rate plan in the caller's account (operator admins: wholesale plans; reseller admins: their own retail plans)",
        description: `${MONEY_NOTE} Every problem of the plan is named in one 400 invalid_rate_plan answer.`,
        body: PlanCreateBody,
        response: { 201: PlanSchema, ...problems(400, 401, 403, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return planDto(await s.catalog.createPlan(principalOf(req), planInputOf(req.body)));
      },
    });
    app.get('/plans/:id', {
      schema: {
        tags: planTags,
        summary: 'One rate plan: the version in force now and every version',
        description: MONEY_NOTE,
        params: IdParam,
        response: { 200: PlanSchema, ...problems(401, 404) },
      },
      handler: async (req) => planDto(await s.catalog.getPlan(principalOf(req), req.params.id)),
    });
    app.post('/plans/:id/versions', {
      schema: {
        tags: planTags,
        summary: 'Change a rate plan from a date on: a new version with the latest terms and the given changes',
        description: `${MONEY_NOTE} Usage before effectiveFrom keeps the prices of the version in force then. sharing and currency cannot change.`,
        params: IdParam,
        body: PlanChangeBody,
        response: { 201: PlanSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        const { change, effectiveFrom } = planChangeOf(req.body);
        reply.status(201);
        return planDto(await s.catalog.changePlan(principalOf(req), req.params.id, change, effectiveFrom));
      },
    });

    app.post('/catalog/sample', {
      schema: {
        tags: planTags,
        summary: 'Load the sample catalogue: 7 zones, one plan per zone and tier of the CNY price list, and sample top-up products (operator admins)',
        description: 'Idempotent: zones and plans whose id exists already are kept as they are, so loading it again changes nothing (200 with zero created).',
        response: { 200: SampleLoadSchema, ...problems(401, 403) },
      },
      handler: async (req) => s.catalog.loadSample(principalOf(req)),
    });
  };

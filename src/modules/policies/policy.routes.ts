import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { type CommPlan, IMEI_LOCK_MODES, REGION_MODES, VIOLATION_KINDS } from './policy.ts';
import type { ListedEntry, Violation } from './policy.repository.ts';
import type { SimPolicy } from './policy.service.ts';

const tags = ['policies'];
const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });
const bytes = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const ImeiLockSchema = z
  .object({
    mode: z.enum(IMEI_LOCK_MODES).describe('off; first: bound to the first IMEI seen; tac: any device sharing the first 8 digits (TAC) of the bound IMEI'),
    maxDevices: z.number().int().min(1).max(1000).describe('devices accepted under tac, the bound one included (default 10)'),
  })
  .meta({ id: 'ImeiLock' });

const RegionSchema = z
  .object({
    mode: z.enum(REGION_MODES).describe('off; allowed: the listed countries, zones and operators; first_activation: the country of the first session after the test period'),
    countries: z.array(z.string()).max(300).describe('ISO 3166-1 alpha-2 codes'),
    zones: z.array(z.string()).max(100).describe('zone ids of the rating catalogue'),
    operators: z.array(z.string()).max(1000).describe('networks as MCC+MNC'),
  })
  .meta({ id: 'RegionRule' });

const ServicesSchema = z.object({ data: z.boolean(), voice: z.boolean(), sms: z.boolean() }).meta({ id: 'CommPlanServices' });

const CommPlanSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    services: ServicesSchema,
    apns: z.array(z.string()).describe('APNs a session may use; empty: any'),
    destinations: z.array(z.string()).describe('directed access (定向): CIDRs and host names; empty: not directed'),
    smsWhitelist: z.array(z.string()).describe('numbers SMS may go to when SMS is on'),
    imeiLock: ImeiLockSchema,
    region: RegionSchema,
    dailyDataLimitBytes: z.number().int().nullable().describe('data per local day; reaching it blocks data until the next day'),
    abnormalDailyBytes: z.number().int().describe('daily usage above which an abnormal_traffic alert is raised (once per SIM and day)'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'CommPlan' });

const CommPlanInput = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  services: ServicesSchema.partial().optional(),
  apns: z.array(z.string().max(100)).max(50).optional(),
  destinations: z.array(z.string().max(253)).max(200).optional(),
  smsWhitelist: z.array(z.string().max(16)).max(1000).optional(),
  imeiLock: ImeiLockSchema.partial().optional(),
  region: RegionSchema.partial().optional(),
  dailyDataLimitBytes: bytes.nullable().optional(),
  abnormalDailyBytes: bytes.optional(),
});

const toPlanDto = (p: CommPlan) => ({ ...p, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) });

const SimPolicySchema = z
  .object({
    iccid: z.string(),
    source: z.enum(['sim', 'group', 'default']).describe('where the communication plan in force comes from'),
    commPlan: CommPlanSchema.nullable(),
    ownImeiLock: ImeiLockSchema.nullable().describe('the IMEI lock set on the SIM itself; null: the plan\'s'),
    imeiLock: ImeiLockSchema.describe('the IMEI lock in force'),
    boundImei: z.string().nullable(),
    devices: z.array(z.object({ imei: z.string(), firstSeenAt: Timestamp })),
    boundCountry: z.string().nullable().describe('country of first activation, when the region rule binds to it'),
  })
  .meta({ id: 'SimPolicy' });
const toSimPolicyDto = (p: SimPolicy) => ({
  ...p,
  commPlan: p.commPlan && toPlanDto(p.commPlan),
  devices: p.devices.map((d) => ({ imei: d.imei, firstSeenAt: iso(d.firstSeenAt) })),
});

const ListedSchema = z
  .object({ code: z.string(), kind: z.string(), reason: z.string().nullable(), createdBy: z.string().nullable(), createdAt: Timestamp })
  .meta({ id: 'ListedEntry' });
const toListedDto = (e: ListedEntry) => ({ ...e, createdAt: iso(e.createdAt) });

const ViolationSchema = z
  .object({
    id: z.number().int(),
    accountId: z.string(),
    iccid: z.string(),
    kind: z.enum(VIOLATION_KINDS),
    message: z.string(),
    data: z.record(z.string(), z.unknown()),
    occurredAt: Timestamp,
  })
  .meta({ id: 'PolicyViolation' });
const toViolationDto = (v: Violation) => ({ ...v, occurredAt: iso(v.occurredAt) });

export const policyRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/comm-plans', {
      schema: {
        tags,
        summary: 'List communication plans visible to the caller',
        querystring: z.object({ accountId: z.string().optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(CommPlanSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, accountId } = req.query;
        const items = await s.policies.listCommPlans(principalOf(req), { accountId, after: cursor, limit });
        return { items: items.map(toPlanDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/comm-plans', {
      schema: {
        tags,
        summary: 'Create a communication plan (data on, voice and SMS off unless given)',
        body: CommPlanInput.extend({ name: z.string().trim().min(1).max(100), accountId: z.string().optional() }),
        response: { 201: CommPlanSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return toPlanDto(await s.policies.createCommPlan(principalOf(req), req.body));
      },
    });
    app.get('/comm-plans/:id', {
      schema: { tags, summary: 'One communication plan', params: IdParam, response: { 200: CommPlanSchema, ...problems(401, 404) } },
      handler: async (req) => toPlanDto(await s.policies.getCommPlan(principalOf(req), req.params.id)),
    });
    app.patch('/comm-plans/:id', {
      schema: {
        tags,
        summary: 'Change settings of a communication plan; its SIMs follow at once',
        params: IdParam,
        body: CommPlanInput,
        response: { 200: CommPlanSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => toPlanDto(await s.policies.updateCommPlan(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/comm-plans/:id', {
      schema: { tags, summary: 'Delete a communication plan no SIM or group uses', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404, 409) } },
      handler: async (req, reply) => {
        await s.policies.deleteCommPlan(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });

    app.get('/sims/:iccid/policy', {
      schema: { tags, summary: 'The policies in force for a SIM: plan and its source, IMEI lock and bindings', params: IccidParam, response: { 200: SimPolicySchema, ...problems(400, 401, 404) } },
      handler: async (req) => toSimPolicyDto(await s.policies.getSimPolicy(principalOf(req), req.params.iccid)),
    });
    app.put('/sims/:iccid/comm-plan', {
      schema: {
        tags,
        summary: 'Assign a communication plan to a SIM (wins over its group\'s); null to follow the group',
        params: IccidParam,
        body: z.object({ commPlanId: z.string().nullable() }),
        response: { 200: SimPolicySchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => toSimPolicyDto(await s.policies.assignToSim(principalOf(req), req.params.iccid, req.body.commPlanId)),
    });
    app.put('/sims/:iccid/imei-lock', {
      schema: {
        tags,
        summary: 'Set the IMEI lock (机卡绑定) of one SIM; null to follow its communication plan',
        params: IccidParam,
        body: z.object({ imeiLock: z.object({ mode: z.enum(IMEI_LOCK_MODES), maxDevices: z.number().int().min(1).max(1000).default(10) }).nullable() }),
        response: { 200: SimPolicySchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => toSimPolicyDto(await s.policies.setImeiLock(principalOf(req), req.params.iccid, req.body.imeiLock)),
    });
    app.post('/sims/:iccid/imei-reset', {
      schema: {
        tags,
        summary: 'Rebind a SIM: forget its bound IMEI and devices; the next device seen is bound. A SIM suspended for imei_mismatch becomes active',
        params: IccidParam,
        body: z.object({ reason: z.string().max(500).optional() }).optional(),
        response: { 200: SimPolicySchema, ...problems(400, 401, 403, 404, 502) },
      },
      handler: async (req) => toSimPolicyDto(await s.policies.resetImei(principalOf(req), req.params.iccid, req.body?.reason)),
    });

    const GroupPlan = z.object({ groupId: z.string(), commPlanId: z.string().nullable() }).meta({ id: 'GroupCommPlan' });
    app.get('/groups/:id/comm-plan', {
      schema: { tags, summary: 'The communication plan of a group', params: IdParam, response: { 200: GroupPlan, ...problems(401, 404) } },
      handler: async (req) => s.policies.groupCommPlan(principalOf(req), req.params.id),
    });
    app.put('/groups/:id/comm-plan', {
      schema: {
        tags,
        summary: 'Assign a communication plan to a group: its SIMs without a plan of their own follow it',
        params: IdParam,
        body: z.object({ commPlanId: z.string().nullable() }),
        response: { 200: GroupPlan, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => s.policies.assignToGroup(principalOf(req), req.params.id, req.body.commPlanId),
    });

    app.get('/imei-blacklist', {
      schema: {
        tags,
        summary: 'The operator\'s IMEI blacklist: listed devices are refused on every SIM (operator only)',
        querystring: z.object({ cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(ListedSchema), ...problems(400, 401, 403) },
      },
      handler: async (req) => {
        const items = await s.policies.listBlacklist(principalOf(req), { after: req.query.cursor, limit: req.query.limit });
        return { items: items.map(toListedDto), nextCursor: items.length === req.query.limit ? (items.at(-1)?.code ?? null) : null };
      },
    });
    app.post('/imei-blacklist', {
      schema: {
        tags,
        summary: 'Add an IMEI to the blacklist (operator only)',
        body: z.object({ imei: z.string(), reason: z.string().max(500).optional() }),
        response: { 204: z.null(), ...problems(400, 401, 403) },
      },
      handler: async (req, reply) => {
        await s.policies.addToBlacklist(principalOf(req), req.body.imei, req.body.reason ?? null);
        return reply.status(204).send(null);
      },
    });
    app.delete('/imei-blacklist/:imei', {
      schema: { tags, summary: 'Remove an IMEI from the blacklist (operator only)', params: z.object({ imei: z.string().max(20) }), response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.policies.removeFromBlacklist(principalOf(req), req.params.imei);
        return reply.status(204).send(null);
      },
    });

    app.get('/high-risk-areas', {
      schema: { tags, summary: 'High-risk areas: countries and networks refused on every SIM (operator only)', response: { 200: z.object({ items: z.array(ListedSchema) }), ...problems(401, 403) } },
      handler: async (req) => ({ items: (await s.policies.listHighRiskAreas(principalOf(req))).map(toListedDto) }),
    });
    app.post('/high-risk-areas', {
      schema: {
        tags,
        summary: 'Add a high-risk area: an ISO country code or an MCC-MNC (operator only)',
        body: z.object({ code: z.string().max(6), reason: z.string().max(500).optional() }),
        response: { 204: z.null(), ...problems(400, 401, 403) },
      },
      handler: async (req, reply) => {
        await s.policies.addHighRiskArea(principalOf(req), req.body.code, req.body.reason ?? null);
        return reply.status(204).send(null);
      },
    });
    app.delete('/high-risk-areas/:code', {
      schema: { tags, summary: 'Remove a high-risk area (operator only)', params: z.object({ code: z.string().max(6) }), response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.policies.removeHighRiskArea(principalOf(req), req.params.code);
        return reply.status(204).send(null);
      },
    });

    app.get('/policy-violations', {
      schema: {
        tags,
        summary: 'Policy violations of visible SIMs, newest first (each kind once per SIM and day)',
        querystring: z.object({
          iccid: z.string().optional(),
          kind: z.enum(VIOLATION_KINDS).optional(),
          cursor: z.coerce.number().int().min(1).optional().describe('nextCursor of the previous page'),
          limit: limitSchema,
        }),
        response: { 200: z.object({ items: z.array(ViolationSchema), nextCursor: z.number().int().nullable() }), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { iccid, kind, cursor, limit } = req.query;
        const items = await s.policies.listViolations(principalOf(req), { iccid, kind, beforeId: cursor, limit });
        return { items: items.map(toViolationDto), nextCursor: items.length === limit ? (items.at(-1)?.id ?? null) : null };
      },
    });
  };

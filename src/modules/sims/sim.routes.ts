import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { CHANGE_STATUSES } from '../changes/change-record.ts';
import { JobSchema, jobDto } from '../jobs/job.routes.ts';
import { CHANGE_SOURCES } from './sim.ts';
import {
  ChangeRecordSchema,
  changeDto,
  customFieldFilter,
  SimListQuery,
  SimSchema,
  SimUpdateSchema,
  simDto,
  TransitionSchema,
} from './sim.schemas.ts';
import { decodeCursor } from './sim.service.ts';

const tags = ['sims'];
const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });

const ChangeQuery = z.object({
  iccid: z.string().optional(),
  field: z.string().optional(),
  source: z.enum(CHANGE_SOURCES).optional(),
  status: z.enum(CHANGE_STATUSES).optional(),
  jobId: z.string().optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  cursor: z.coerce.number().int().positive().optional().describe('nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const simRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/sims', {
      schema: {
        tags,
        summary: 'List and search SIMs (filters, cursor pagination, sort)',
        querystring: SimListQuery,
        response: { 200: z.object({ items: z.array(SimSchema), nextCursor: z.string().nullable() }), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { sort, order, cursor, limit, ...filter } = req.query;
        const result = await s.sims.listSims(
          principalOf(req),
          { ...filter, customFields: customFieldFilter(req.query) },
          { sort, order, limit, after: cursor ? decodeCursor(cursor) : undefined },
        );
        return { items: result.items.map(simDto), nextCursor: result.nextCursor };
      },
    });

    app.get('/sims/:iccid', {
      schema: { tags, summary: 'One SIM', params: IccidParam, response: { 200: SimSchema, ...problems(400, 401, 404) } },
      handler: async (req) => simDto(await s.sims.getSim(principalOf(req), req.params.iccid)),
    });

    app.patch('/sims/:iccid', {
      schema: {
        tags,
        summary: 'Change group, labels, custom fields, device name, IMEI or owner account of a SIM',
        params: IccidParam,
        body: SimUpdateSchema.extend({ reason: z.string().max(500).optional() }),
        response: { 200: SimSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => simDto(await s.sims.updateSim(principalOf(req), req.params.iccid, req.body)),
    });

    app.delete('/sims/:iccid', {
      schema: { tags, summary: 'Delete a SIM still in inventory', params: IccidParam, response: { 204: z.null(), ...problems(401, 403, 404, 409) } },
      handler: async (req, reply) => {
        await s.sims.deleteSim(principalOf(req), req.params.iccid);
        return reply.status(204).send(null);
      },
    });

    app.post('/sims/:iccid/state', {
      schema: {
        tags,
        summary: 'Change the lifecycle state of a SIM (provisioned on the network first)',
        params: IccidParam,
        body: TransitionSchema,
        response: { 200: z.object({ sim: SimSchema, changeRecordId: z.number().int().nullable() }), ...problems(400, 401, 403, 404, 409, 502) },
      },
      handler: async (req) => {
        const { sim, result } = await s.sims.setState(principalOf(req), req.params.iccid, req.body);
        return { sim: simDto(sim), changeRecordId: result.changeRecordId ?? null };
      },
    });

    app.put('/sims/:iccid/plan', {
      schema: {
        tags,
        summary: 'Assign a rate plan to a SIM, or take it off its plan with null (operator and reseller admins)',
        description:
          "The plan must be visible to the caller and belong to the SIM's account or an account above it. The change is kept as a change record of field plan.",
        params: IccidParam,
        body: z.object({ planId: z.string().min(1).max(64).nullable(), reason: z.string().max(500).optional() }).strict(),
        response: { 200: SimSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => simDto(await s.sims.updateSim(principalOf(req), req.params.iccid, req.body)),
    });

    app.get('/sims/:iccid/changes', {
      schema: {
        tags,
        summary: 'Change records of one SIM, newest first',
        params: IccidParam,
        querystring: ChangeQuery.omit({ iccid: true }),
        response: { 200: z.object({ items: z.array(ChangeRecordSchema), nextCursor: z.number().nullable() }), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const p = principalOf(req);
        await s.sims.getSimRow(p, req.params.iccid);
        return listChanges(s, req.query, p, req.params.iccid);
      },
    });

    app.get('/changes', {
      schema: {
        tags: ['changes'],
        summary: 'Change records (异动记录) of all visible SIMs, newest first',
        querystring: ChangeQuery,
        response: { 200: z.object({ items: z.array(ChangeRecordSchema), nextCursor: z.number().nullable() }), ...problems(400, 401) },
      },
      handler: async (req) => listChanges(s, req.query, principalOf(req)),
    });

    app.post('/sims/lookup', {
      schema: {
        tags,
        summary: 'Batch lookup: the SIM of each ICCID, IMSI, MSISDN or IMEI in a list',
        body: z.object({ by: z.enum(['iccid', 'imsi', 'msisdn', 'imei']), values: z.array(z.string().max(32)).min(1).max(10_000) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                value: z.string(),
                found: z.boolean(),
                iccid: z.string().nullable(),
                imsis: z.array(z.string()),
                activeImsi: z.string().nullable(),
                msisdn: z.string().nullable(),
                imei: z.string().nullable(),
              }),
            ),
          }),
          ...problems(400, 401),
        },
      },
      handler: async (req) => {
        const found = await s.sims.lookup(principalOf(req), req.body.by, req.body.values);
        return {
          items: found.map(({ value, sim }) => ({
            value,
            found: sim !== null,
            iccid: sim?.iccid ?? null,
            imsis: sim?.profiles.map((p) => p.imsi) ?? [],
            activeImsi: sim?.imsi ?? null,
            msisdn: sim?.msisdn ?? null,
            imei: sim?.imei ?? null,
          })),
        };
      },
    });

    app.post('/sims/imports', {
      schema: {
        tags,
        summary: 'Import SIMs from a CSV body (Content-Type: text/csv) as a job',
        description:
          'Columns: iccid, imsi (required; several IMSIs separated by | or ;), active_imsi, msisdn, eid, batch, group (name of a group of the account), labels (separated by | or ;), device_name. ' +
          'Each row gets a result; invalid rows are reported with the reason and valid rows land. Importing the same file again changes nothing.',
        querystring: z.object({
          dryRun: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
          accountId: z.string().optional().describe('account that receives the SIMs (default: the caller\'s)'),
        }),
        body: z.string().describe('the CSV file'),
        response: { 202: JobSchema, ...problems(400, 401, 403, 404, 413, 415) },
      },
      handler: async (req, reply) => {
        const job = await s.imports.startImport(principalOf(req), req.body, { dryRun: req.query.dryRun, accountId: req.query.accountId });
        reply.status(202).header('location', `/api/v1/jobs/${job.id}`);
        return jobDto(job);
      },
    });
  };

async function listChanges(s: Services, q: z.infer<typeof ChangeQuery>, principal: ReturnType<typeof principalOf>, iccid?: string) {
  const items = await s.sims.listChangeRecords(principal, {
    iccid: iccid ?? q.iccid,
    field: q.field,
    source: q.source,
    status: q.status,
    jobId: q.jobId,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    before: q.cursor,
    limit: q.limit,
  });
  return { items: items.map(changeDto), nextCursor: items.length === q.limit ? (items.at(-1)?.id ?? null) : null };
}

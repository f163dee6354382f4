import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { IdParam, iso, isoOrNull, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { MAX_BULK_SIMS } from '../sims/bulk.service.ts';
import { SimUpdateSchema, TransitionSchema } from '../sims/sim.schemas.ts';
import { SIM_STATES } from '../sims/sim.ts';
import { type Job, JOB_KINDS, JOB_STATUSES } from './job.ts';

export const JobSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    kind: z.enum(JOB_KINDS),
    status: z.enum(JOB_STATUSES),
    dryRun: z.boolean(),
    total: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    summary: z.record(z.string(), z.unknown()),
    createdBy: z.string().nullable(),
    error: z.string().nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'Job' });

export const jobDto = (j: Job) => ({
  id: j.id,
  accountId: j.accountId,
  kind: j.kind,
  status: j.status,
  dryRun: j.dryRun,
  total: j.total,
  done: j.done,
  failed: j.failed,
  summary: j.summary,
  createdBy: j.createdBy,
  error: j.error,
  createdAt: iso(j.createdAt),
  startedAt: isoOrNull(j.startedAt),
  finishedAt: isoOrNull(j.finishedAt),
});

const JobResultSchema = z
  .object({
    seq: z.number().int().describe('CSV line number for imports; position for bulk jobs'),
    subject: z.string().nullable().describe('ICCID'),
    ok: z.boolean(),
    code: z.string().nullable().describe('created, unchanged, changed, would_create, would_change, or an error code'),
    message: z.string().nullable(),
  })
  .meta({ id: 'JobResult' });

const BulkFilterSchema = z
  .object({
    state: z.array(z.enum(SIM_STATES)).optional(),
    accountId: z.string().optional(),
    groupId: z.string().optional(),
    batch: z.string().optional(),
    label: z.array(z.string()).optional(),
    customFields: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const BulkRequestSchema = z
  .object({
    selection: z.union([
      z.object({ iccids: z.array(z.string()).min(1).max(MAX_BULK_SIMS) }).strict(),
      z.object({ filter: BulkFilterSchema }).strict(),
    ]),
    change: z.union([z.object({ state: TransitionSchema }).strict(), z.object({ update: SimUpdateSchema }).strict()]),
    reason: z.string().max(500).optional(),
    dryRun: z.boolean().default(false),
  })
  .meta({ id: 'BulkRequest' });

const tags = ['jobs'];

export const jobRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/bulk-jobs', {
      schema: {
        tags,
        summary: 'Change state, group, labels, custom fields or owner of many SIMs (大批异动) as a job',
        description: 'Select SIMs by a list of ICCIDs or by a filter. Honour Idempotency-Key to avoid starting the same job twice.',
        body: BulkRequestSchema,
        response: { 202: JobSchema, ...problems(400, 401, 403, 404) },
      },
      bodyLimit: 64 * 1024 * 1024,
      handler: async (req, reply) => {
        const { selection, change, reason, dryRun } = req.body;
        const job = await s.bulk.startBulk(principalOf(req), {
          selection,
          change: 'state' in change ? { kind: 'state', transition: { ...change.state, reason: change.state.reason ?? reason } } : { kind: 'update', update: change.update },
          reason,
          dryRun,
        });
        reply.status(202).header('location', `/api/v1/jobs/${job.id}`);
        return jobDto(job);
      },
    });

    app.get('/jobs', {
      schema: {
        tags,
        summary: 'Jobs (imports and bulk changes), newest first',
        querystring: z.object({
          kind: z.enum(JOB_KINDS).optional(),
          status: z.enum(JOB_STATUSES).optional(),
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        }),
        response: { 200: z.object({ items: z.array(JobSchema), nextCursor: z.string().nullable() }), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, ...f } = req.query;
        const items = await s.jobs.listJobs(principalOf(req), { ...f, before: cursor, limit });
        return { items: items.map(jobDto), nextCursor: items.length === limit ? (items.at(-1)?.id ?? null) : null };
      },
    });

    app.get('/jobs/:id', {
      schema: { tags, summary: 'One job with its progress', params: IdParam, response: { 200: JobSchema, ...problems(401, 404) } },
      handler: async (req) => jobDto(await s.jobs.getJob(principalOf(req), req.params.id)),
    });

    app.get('/jobs/:id/results', {
      schema: {
        tags,
        summary: 'Per-row or per-SIM results of a job',
        description:
          'Bulk jobs have one result per SIM. Imports list the rows that did not simply land: failed rows with the reason, ' +
          'and unchanged (SIM import) or duplicate (CDR import) rows; created and recorded rows are counted in the job summary.',
        params: IdParam,
        querystring: z.object({
          ok: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
          cursor: z.coerce.number().int().optional(),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        }),
        response: { 200: z.object({ items: z.array(JobResultSchema), nextCursor: z.number().nullable() }), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const { ok, cursor, limit } = req.query;
        const items = await s.jobs.listResults(principalOf(req), req.params.id, { ok, after: cursor, limit });
        return { items, nextCursor: items.length === limit ? (items.at(-1)?.seq ?? null) : null };
      },
    });

    app.post('/jobs/:id/cancel', {
      schema: { tags, summary: 'Cancel a job that has not started', params: IdParam, response: { 200: JobSchema, ...problems(401, 403, 404, 409) } },
      handler: async (req) => jobDto(await s.jobs.cancelJob(principalOf(req), req.params.id)),
    });
  };

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, iso, isoOrNull, limitSchema, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { SUBJECT_KINDS } from '../events/event.ts';
import { ALERT_SEVERITIES, ALERT_STATES, type Alert, type AlertFilter, REMARK_MAX_LENGTH } from './alert.ts';

const AlertSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    type: z.string().describe('what happened, snake_case, e.g. webhook_endpoint_paused'),
    severity: z.enum(ALERT_SEVERITIES),
    subject: z.object({ kind: z.enum(SUBJECT_KINDS), id: z.string() }).describe('what the alert is about'),
    message: z.string(),
    data: z.record(z.string(), z.unknown()),
    raisedAt: Timestamp,
    state: z.enum(ALERT_STATES),
    handledBy: z.string().nullable().describe('who handled it: user:<id> or key:<id>'),
    handledAt: Timestamp.nullable(),
    remark: z.string().nullable(),
  })
  .meta({ id: 'Alert' });

const alertDto = (a: Alert) => ({
  id: a.id,
  accountId: a.accountId,
  type: a.type,
  severity: a.severity,
  subject: a.subject,
  message: a.message,
  data: a.data,
  raisedAt: iso(a.raisedAt),
  state: a.state,
  handledBy: a.handledBy,
  handledAt: isoOrNull(a.handledAt),
  remark: a.remark,
});

const alertType = z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/, 'must be an alert type such as webhook_endpoint_paused');
const FilterFields = {
  type: csvList(alertType).optional().describe('one or more alert types, comma-separated'),
  severity: csvList(z.enum(ALERT_SEVERITIES)).optional().describe('one or more of info, warning, critical'),
  state: csvList(z.enum(ALERT_STATES)).optional().describe('unhandled or handled'),
  subjectKind: z.enum(SUBJECT_KINDS).optional(),
  subjectId: z.string().max(100).optional().describe('e.g. an ICCID with subjectKind=sim'),
  accountId: z.string().max(100).optional().describe('only alerts of this account'),
  handledBy: z.string().max(100).optional(),
  from: Timestamp.optional().describe('raised at or after this time'),
  to: Timestamp.optional().describe('raised before this time'),
  q: z.string().max(200).optional().describe('words that must all appear in the message, type, subject id or remark (case-insensitive)'),
};
const FilterQuery = z.object(FilterFields);
const remark = z.string().trim().max(REMARK_MAX_LENGTH).nullable().default(null).describe('what was done about it');

const toFilter = (q: z.infer<typeof FilterQuery>): AlertFilter => ({
  types: q.type,
  severities: q.severity,
  states: q.state,
  subjectKind: q.subjectKind,
  subjectId: q.subjectId,
  accountId: q.accountId,
  handledBy: q.handledBy,
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
  text: q.q,
});

const tags = ['alerts'];

export const alertRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/alerts', {
      schema: {
        tags,
        summary: "Alerts of the caller's account and the accounts below it, newest first",
        querystring: FilterQuery.extend({ cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(AlertSchema), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const result = await s.alerts.listAlerts(principalOf(req), { ...toFilter(req.query), cursor: req.query.cursor, limit: req.query.limit });
        return { items: result.items.map(alertDto), nextCursor: result.nextCursor };
      },
    });
    app.get('/alerts/:id', {
      schema: { tags, summary: 'One alert', params: z.object({ id: z.string().min(1).max(100) }), response: { 200: AlertSchema, ...problems(401, 404) } },
      handler: async (req) => alertDto(await s.alerts.getAlert(principalOf(req), req.params.id)),
    });
    app.post('/alerts/:id/handle', {
      schema: {
        tags,
        summary: 'Mark an alert handled, with a remark',
        params: z.object({ id: z.string().min(1).max(100) }),
        body: z.object({ remark }).strict(),
        response: { 200: AlertSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => alertDto(await s.alerts.handleAlert(principalOf(req), req.params.id, req.body.remark)),
    });
    app.post('/alerts/handle', {
      schema: {
        tags,
        summary: 'Mark many alerts handled: the listed ids, or every unhandled alert matching a filter',
        description: `At most 50,000 alerts per request; \`more: true\` says that matching alerts are left, so repeat the request. Alerts already handled are left as they are.`,
        body: z
          .object({
            ids: z.array(z.string().min(1).max(100)).min(1).max(10_000).optional(),
            filter: z
              .object({
                type: z.array(alertType).optional(),
                severity: z.array(z.enum(ALERT_SEVERITIES)).optional(),
                subjectKind: z.enum(SUBJECT_KINDS).optional(),
                subjectId: z.string().max(100).optional(),
                accountId: z.string().max(100).optional(),
                from: Timestamp.optional(),
                to: Timestamp.optional(),
                q: z.string().max(200).optional(),
              })
              .strict()
              .optional()
              .describe('every given field must match; {} matches every unhandled alert'),
            remark,
          })
          .strict()
          .refine((b) => (b.ids === undefined) !== (b.filter === undefined), { message: 'give either ids or filter, not both' }),
        response: { 200: z.object({ handled: z.number().int(), more: z.boolean() }), ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => {
        const { ids, filter } = req.body;
        const f: AlertFilter = ids
          ? { ids }
          : {
              types: filter?.type,
              severities: filter?.severity,
              subjectKind: filter?.subjectKind,
              subjectId: filter?.subjectId,
              accountId: filter?.accountId,
              from: filter?.from ? new Date(filter.from) : undefined,
              to: filter?.to ? new Date(filter.to) : undefined,
              text: filter?.q,
            };
        return s.alerts.handleAlerts(principalOf(req), f, req.body.remark);
      },
    });
  };

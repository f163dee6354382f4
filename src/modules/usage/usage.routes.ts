import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { IdParam, iso, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { SmsTotals } from '../notifications/sms-usage.repository.ts';
import { formatMicros } from '../rating/money.ts';
import { GRANULARITIES, type UsageReport, type UsageTotals } from './usage.ts';

const totalsShape = {
  bytesIn: z.number().int().describe('octets sent by the devices (uplink)'),
  bytesOut: z.number().int().describe('octets sent to the devices (downlink)'),
  bytes: z.number().int().describe('bytesIn + bytesOut'),
  records: z.number().int().describe('usage records counted'),
};

const UsageReportSchema = z
  .object({
    subject: z.object({ kind: z.enum(['sim', 'group', 'account']), id: z.string() }),
    timezone: z.string().describe("the account's IANA time zone: days and months are local to it"),
    granularity: z.enum(GRANULARITIES),
    from: Timestamp,
    to: Timestamp.describe('exclusive'),
    buckets: z.array(
      z.object({
        start: Timestamp,
        end: Timestamp.describe('exclusive'),
        label: z.string().describe('local hour (2026-01-15T08:00), day (2026-01-15) or month (2026-01)'),
        ...totalsShape,
      }),
    ),
    total: z.object(totalsShape).describe('sum of the buckets'),
    today: z.object({ date: z.string().describe('the current local date'), ...totalsShape }),
    thisCycle: z.object({
      month: z.string().describe('the current billing cycle: local calendar month'),
      ...totalsShape,
      sms: z
        .object({
          messages: z.number().int().describe('SMS counted (each segment is one message), MO and MT'),
          mo: z.number().int().describe('sent by the devices'),
          mt: z.number().int().describe('sent to the devices (accepted by the SMSC)'),
          test: z.number().int().describe('free, in the test period'),
          included: z.number().int().describe("within the plan's included SMS"),
          charged: z.number().int().describe("charged at the plan's SMS price"),
          amount: z.string().describe('exact charge of the charged ones, decimal in the major unit'),
        })
        .describe('SMS of the cycle'),
    }),
  })
  .meta({ id: 'UsageReport' });

const bound = z
  .union([Timestamp, z.string().regex(/^\d{4}-\d{2}-\d{2}$/)])
  .describe("RFC 3339 time, or a date YYYY-MM-DD meaning local midnight in the account's time zone");

const UsageQuery = z.object({
  granularity: z.enum(GRANULARITIES).default('day'),
  from: bound.optional().describe('default: 24 hours, 30 days or 12 months before `to`'),
  to: bound.optional().describe('exclusive; default: the end of the current hour, day or month'),
});

const totalsDto = (t: UsageTotals) => ({ bytesIn: t.bytesIn, bytesOut: t.bytesOut, bytes: t.bytes, records: t.records });

const smsDto = (t: SmsTotals) => ({ messages: t.messages, mo: t.mo, mt: t.mt, test: t.test, included: t.included, charged: t.charged, amount: formatMicros(t.amountMicros) });

const reportDto = (r: UsageReport) => ({
  subject: r.subject,
  timezone: r.timezone,
  granularity: r.granularity,
  from: iso(r.from),
  to: iso(r.to),
  buckets: r.buckets.map((b) => ({ start: iso(b.start), end: iso(b.end), label: b.label, ...totalsDto(b) })),
  total: totalsDto(r.total),
  today: { date: r.today.date, ...totalsDto(r.today) },
  thisCycle: {
    month: r.thisCycle.month,
    ...totalsDto(r.thisCycle),
    sms: smsDto(r.thisCycle.sms),
  },
});

const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });
const tags = ['usage'];
const description =
  'Buckets of hourly usage in the time zone of the account (hours are UTC hours labelled in local time). ' +
  '`today` and `thisCycle` are the current local calendar day and month, whatever the range.';

export const usageRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/sims/:iccid/usage', {
      schema: {
        tags,
        summary: 'Data usage of a SIM by hour, day or month',
        description,
        params: IccidParam,
        querystring: UsageQuery,
        response: { 200: UsageReportSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => reportDto(await s.usageReports.getSimUsage(principalOf(req), req.params.iccid, req.query)),
    });
    app.get('/groups/:id/usage', {
      schema: {
        tags,
        summary: 'Data usage of the SIMs in a group by hour, day or month',
        description,
        params: IdParam,
        querystring: UsageQuery,
        response: { 200: UsageReportSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => reportDto(await s.usageReports.getGroupUsage(principalOf(req), req.params.id, req.query)),
    });
    app.get('/accounts/:id/usage', {
      schema: {
        tags,
        summary: "Data usage of an account's SIMs (and its descendant accounts') by hour, day or month",
        description,
        params: IdParam,
        querystring: UsageQuery.extend({
          descendants: z.enum(['true', 'false']).default('true').transform((v) => v === 'true').describe('include descendant accounts (default true)'),
        }),
        response: { 200: UsageReportSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => reportDto(await s.usageReports.getAccountUsage(principalOf(req), req.params.id, req.query)),
    });
  };

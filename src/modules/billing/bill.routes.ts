import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, limitSchema, nextIdCursor, page, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { formatMicros, formatMinor } from '../rating/money.ts';
import { BILL_KINDS, type BillDraft, type BillLine, LINE_KINDS } from './bill.ts';
import { EXPORT_FORMATS, LANGS } from './bill-export.ts';
import type { Bill, BillRecord } from './bill.service.ts';

const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a calendar month YYYY-MM')
  .describe('billing month YYYY-MM in the account\'s time zone');

const MONEY_NOTE =
  'Amounts are decimal strings in the major unit of the currency ("19.15") with their integer minor units beside them; `amountExact` is the unrounded sum in micros as a decimal. Each line is rounded once, half up; the total is the sum of the rounded lines.';

const LineSchema = z
  .object({
    lineNo: z.number().int(),
    kind: z.enum(LINE_KINDS),
    planId: z.string().nullable(),
    planName: z.string().nullable(),
    zoneId: z.string().nullable(),
    trafficClass: z.string().nullable().describe('split billing: the traffic class of a usage line'),
    quantity: z.number().int().describe('SIMs on a fee line, usage records on a usage line, messages (segments) on an SMS line, top-ups on a top-up line'),
    bytes: z.number().int(),
    unitPrice: z.string().nullable().describe("monthly fee of a fee line, the plan's SMS price on an SMS line, the product's price on a top-up line"),
    productId: z.string().nullable().describe('the top-up product of a top-up line'),
    paidByOrder: z.string().nullable().describe('the order that paid for the top-ups of a top-up line: shown, not charged again'),
    amountExact: z.string(),
    amount: z.string(),
    amountMinor: z.number().int(),
  })
  .meta({ id: 'BillLine' });

const summaryFields = {
  accountId: z.string(),
  kind: z.enum(BILL_KINDS),
  period: z.string(),
  currency: z.string(),
  totalExact: z.string(),
  total: z.string(),
  totalMinor: z.number().int(),
  usageRecords: z.number().int(),
};

const BillSummarySchema = z
  .object({ id: z.string(), ...summaryFields, revision: z.number().int(), periodStart: z.string(), periodEnd: z.string(), issuedAt: z.string(), issuedBy: z.string().nullable() })
  .meta({ id: 'BillSummary' });
const BillSchema = BillSummarySchema.extend({ lines: z.array(LineSchema) }).meta({ id: 'Bill' });
const BillPreviewSchema = z.object({ ...summaryFields, lines: z.array(LineSchema) }).meta({ id: 'BillPreview' });

const Figures = z.object({ records: z.number().int(), bytes: z.number().int(), amountExact: z.string() });
const ReconciliationSchema = z
  .object({
    billId: z.string(),
    currency: z.string(),
    balanced: z.boolean().describe('every usage, SMS and top-up line equals the sum of its records, to the micro, and no record is left out'),
    totalMatches: z.boolean().describe('the rounded lines add up to the total'),
    billed: Figures,
    recorded: Figures,
    differences: z.array(
      z.object({
        kind: z.enum(LINE_KINDS),
        planId: z.string().nullable(),
        zoneId: z.string().nullable(),
        trafficClass: z.string().nullable(),
        productId: z.string().nullable(),
        orderId: z.string().nullable(),
        billed: Figures,
        recorded: Figures,
      }),
    ),
  })
  .meta({ id: 'BillReconciliation' });

const RunResultSchema = z
  .object({
    period: z.string(),
    accountId: z.string(),
    created: z.number().int(),
    replaced: z.number().int(),
    kept: z.number().int().describe('bills of the month that existed and were kept (run with rerun to replace them)'),
    usageRecords: z.number().int(),
    totals: z.record(z.string(), z.string()).describe('total billed per currency'),
    durationMs: z.number().int(),
  })
  .meta({ id: 'BillRun' });

const lineDto = (l: BillLine, currency: string) => ({
  lineNo: l.lineNo,
  kind: l.kind,
  planId: l.planId,
  planName: l.planName,
  zoneId: l.zoneId,
  trafficClass: l.trafficClass,
  quantity: l.quantity,
  bytes: l.bytes,
  unitPrice: l.unitPriceMicros === null ? null : formatMicros(l.unitPriceMicros, currency),
  productId: l.productId,
  paidByOrder: l.orderId,
  amountExact: formatMicros(l.amountMicros, currency),
  amount: formatMinor(l.amountMinor, currency),
  amountMinor: l.amountMinor,
});

const summaryOf = (b: Omit<BillDraft, 'lines'>) => ({
  accountId: b.accountId,
  kind: b.kind,
  period: b.period,
  currency: b.currency,
  totalExact: formatMicros(b.totalMicros, b.currency),
  total: formatMinor(b.totalMinor, b.currency),
  totalMinor: b.totalMinor,
  usageRecords: b.usageRecords,
});

const billSummaryDto = (b: BillRecord) => ({
  id: b.id,
  ...summaryOf(b),
  revision: b.revision,
  periodStart: b.periodStart.toISOString(),
  periodEnd: b.periodEnd.toISOString(),
  issuedAt: b.issuedAt.toISOString(),
  issuedBy: b.issuedBy,
});
const billDto = (b: Bill) => ({ ...billSummaryDto(b), lines: b.lines.map((l) => lineDto(l, b.currency)) });

export const billRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['bills'];
    app.post('/bills/runs', {
      schema: {
        tags,
        summary: 'Bill a closed month for an account and every account under it (operator and reseller admins)',
        description: `Builds one bill per account and currency from the SIMs' plans (monthly fees; the first month prorated by days from activation; prepaid plans are paid by renewal orders, not billed monthly) and the month's rated usage records (by plan, zone and charge). Accounts already billed keep their bills unless rerun, which replaces them with the next revision. ${MONEY_NOTE}`,
        body: z.object({ period: Period, accountId: z.string().optional(), rerun: z.boolean().optional() }).strict(),
        response: { 200: RunResultSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => {
        const r = await s.bills.runBills(principalOf(req), req.body);
        return { ...r, totals: Object.fromEntries(Object.entries(r.totals).map(([c, minor]) => [c, formatMinor(minor, c)])) };
      },
    });
    app.get('/bills/preview', {
      schema: {
        tags,
        summary: "What an account's bills for a month (also the current one) come to now; nothing is stored",
        querystring: z.object({ period: Period, accountId: z.string().optional() }),
        response: { 200: z.object({ items: z.array(BillPreviewSchema) }), ...problems(400, 401, 404) },
      },
      handler: async (req) => ({
        items: (await s.bills.previewBills(principalOf(req), req.query)).map((b) => ({ ...summaryOf(b), lines: b.lines.map((l) => lineDto(l, b.currency)) })),
      }),
    });
    app.get('/bills', {
      schema: {
        tags,
        summary: 'List bills of the caller\'s account and the accounts under it',
        querystring: z.object({ period: Period.optional(), accountId: z.string().optional(), kind: z.enum(BILL_KINDS).optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(BillSummarySchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const items = await s.bills.listBills(principalOf(req), { ...req.query, after: req.query.cursor });
        return { items: items.map(billSummaryDto), nextCursor: nextIdCursor(items, req.query.limit) };
      },
    });
    app.get('/bills/:id', {
      schema: { tags, summary: 'One bill with its lines', description: MONEY_NOTE, params: IdParam, response: { 200: BillSchema, ...problems(401, 404) } },
      handler: async (req) => billDto(await s.bills.getBill(principalOf(req), req.params.id)),
    });
    app.get('/bills/:id/reconciliation', {
      schema: {
        tags,
        summary: "Prove a bill against the usage records: its usage lines against the records of its account and month, summed afresh",
        params: IdParam,
        response: { 200: ReconciliationSchema, ...problems(401, 404) },
      },
      handler: async (req) => {
        const r = await s.bills.reconcileBill(principalOf(req), req.params.id);
        const fig = (f: { records: number; bytes: number; amountMicros: number }) => ({ records: f.records, bytes: f.bytes, amountExact: formatMicros(f.amountMicros, r.currency) });
        return { ...r, billed: fig(r.billed), recorded: fig(r.recorded), differences: r.differences.map((d) => ({ ...d, billed: fig(d.billed), recorded: fig(d.recorded) })) };
      },
    });
    app.get('/bills/:id/export', {
      schema: {
        tags,
        summary: 'A bill as CSV, XLSX or PDF, in Chinese or English',
        params: IdParam,
        querystring: z.object({ format: z.enum(EXPORT_FORMATS).default('csv'), lang: z.enum(LANGS).default('en') }),
        response: { 200: z.any().describe('the document'), ...problems(400, 401, 404, 503) },
      },
      handler: async (req, reply) => {
        const doc = await s.bills.exportBill(principalOf(req), req.params.id, req.query.format, req.query.lang);
        return reply.type(doc.contentType).header('content-disposition', `attachment; filename="${doc.fileName}"`).send(doc.body);
      },
    });
  };

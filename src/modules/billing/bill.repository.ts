import { type Selectable, sql } from 'kysely';
import type { BillLineTable, BillTable, Executor } from '../../db/database.ts';
import { likePrefix } from '../../db/scope.ts';
import type { BillDraft, BillKind, BillLine, FeeGroup, LineKind, SmsGroup, TopUpGroup, UsageCharge, UsageGroup } from './bill.ts';
import type { WholesaleUsage } from './wholesale.ts';

/** A billing month's bounds in each time zone of the accounts billed. */
export interface PeriodBounds {
  timeZone: string;
  start: Date;
  end: Date;
}

export interface BillRecord extends Omit<BillDraft, 'lines'> {
  id: string;
  periodStart: Date;
  periodEnd: Date;
  revision: number;
  issuedAt: Date;
  issuedBy: string | null;
}

const toBill = (r: Selectable<BillTable>): BillRecord => ({
  id: r.id,
  accountId: r.account_id,
  kind: r.kind,
  period: r.period,
  currency: r.currency,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  revision: r.revision,
  totalMicros: Number(r.total_micros),
  totalMinor: Number(r.total_minor),
  usageRecords: Number(r.usage_records),
  issuedAt: r.issued_at,
  issuedBy: r.issued_by,
});

const toLine = (r: Selectable<BillLineTable>): BillLine => ({
  lineNo: r.line_no,
  kind: r.kind as LineKind,
  planId: r.plan_id,
  planName: r.plan_name,
  zoneId: r.zone_id,
  trafficClass: r.traffic_class,
  quantity: Number(r.quantity),
  bytes: Number(r.bytes),
  unitPriceMicros: r.unit_price_micros === null ? null : Number(r.unit_price_micros),
  amountMicros: Number(r.amount_micros),
  amountMinor: Number(r.amount_minor),
  productId: r.product_id,
  orderId: r.order_id,
});

/** The time zones of the accounts at or under `path` (each has its own month bounds). */
export async function timeZonesUnder(db: Executor, path: string): Promise<string[]> {
  const rows = await db.selectFrom('accounts').select('timezone').distinct().where('path', 'like', likePrefix(path)).execute();
  return rows.map((r) => r.timezone);
}

const boundsTable = (bounds: readonly PeriodBounds[]) => sql`unnest(
  ${bounds.map((b) => b.timeZone)}::text[], ${bounds.map((b) => b.start)}::timestamptz[], ${bounds.map((b) => b.end)}::timestamptz[]
) AS b(tz, start_at, end_at)`;

/**
 * Members of pools in the month, per account, plan and (for those who joined in the month) local day of joining: the
 * SIMs of `fees` counted by when they joined their plan (activation, or the later move onto the plan) instead.
 */
export async function sumPoolJoinGroups(db: Executor, path: string, bounds: readonly PeriodBounds[], planIds: readonly string[]): Promise<FeeGroup[]> {
  if (planIds.length === 0) return [];
  const rows = await sql<{ account_id: string; plan_id: string; joined_day: number | null; sims: string }>`
    SELECT s.account_id, s.plan_id,
      CASE WHEN j.joined_at >= b.start_at THEN extract(day FROM j.joined_at AT TIME ZONE b.tz)::int END AS joined_day,
      count(*) AS sims
    FROM sims s
    CROSS JOIN LATERAL (SELECT greatest(s.activated_at, coalesce(s.plan_joined_at, s.activated_at)) AS joined_at) j
    JOIN accounts a ON a.id = s.account_id
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE a.path LIKE ${likePrefix(path)} AND s.plan_id = any(${[...planIds]}::text[]) AND s.activated_at < b.end_at AND j.joined_at < b.end_at
      AND (s.state IN ('active', 'suspended') OR s.state_changed_at >= b.start_at)
    GROUP BY 1, 2, 3`.execute(db);
  return rows.rows.map((r) => ({ accountId: r.account_id, planId: r.plan_id, activatedDay: r.joined_day === null ? null : Number(r.joined_day), sims: Number(r.sims) }));
}

/**
 * SIMs billed a monthly fee in the month, per account, plan and (for those activated in the month) local day of
 * activation: on a plan, activated before the month ends, and active or suspended, or left those states only in or
 * after the month.
 */
export async function sumFeeGroups(db: Executor, path: string, bounds: readonly PeriodBounds[]): Promise<FeeGroup[]> {
  const rows = await sql<{ account_id: string; plan_id: string; activated_day: number | null; sims: string }>`
    SELECT s.account_id, s.plan_id,
      CASE WHEN s.activated_at >= b.start_at THEN extract(day FROM s.activated_at AT TIME ZONE b.tz)::int END AS activated_day,
      count(*) AS sims
    FROM sims s
    JOIN accounts a ON a.id = s.account_id
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE a.path LIKE ${likePrefix(path)} AND s.plan_id IS NOT NULL AND s.activated_at < b.end_at
      AND (s.state IN ('active', 'suspended') OR s.state_changed_at >= b.start_at)
    GROUP BY 1, 2, 3`.execute(db);
  return rows.rows.map((r) => ({ accountId: r.account_id, planId: r.plan_id, activatedDay: r.activated_day === null ? null : Number(r.activated_day), sims: Number(r.sims) }));
}

/**
 * The usage records of the month (by end time, in the paying account's time zone) summed per paying account (the
 * SIM's, or the one split billing names), plan, zone, charge class and traffic class. One pass over the month, found
 * by the BRIN index on `end_at`.
 */
export async function sumUsageGroups(db: Executor, path: string, bounds: readonly PeriodBounds[], accountId?: string): Promise<UsageGroup[]> {
  const lo = new Date(Math.min(...bounds.map((b) => b.start.getTime())));
  const hi = new Date(Math.max(...bounds.map((b) => b.end.getTime())));
  const rows = await sql<{ account_id: string; plan_id: string | null; zone_id: string | null; charge: UsageCharge; traffic_class: string | null; records: string; bytes: string; amount: string }>`
    SELECT a.id AS account_id, r.plan_id, r.zone_id,
      CASE WHEN r.charge_micros = 0 THEN 'none' WHEN r.pieces @> '[{"kind":"roaming"}]' THEN 'roaming' ELSE 'overage' END AS charge,
      r.traffic_class, count(*) AS records, sum(r.bytes_in + r.bytes_out) AS bytes, sum(r.charge_micros) AS amount
    FROM usage_records r
    JOIN accounts a ON a.id = coalesce(r.payer_account_id, r.account_id)
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE r.end_at >= ${lo} AND r.end_at < ${hi} AND r.end_at >= b.start_at AND r.end_at < b.end_at
      AND a.path LIKE ${likePrefix(path)} ${accountId === undefined ? sql`` : sql`AND a.id = ${accountId}`}
    GROUP BY 1, 2, 3, 4, 5`.execute(db);
  return rows.rows.map((r) => ({
    accountId: r.account_id,
    planId: r.plan_id,
    zoneId: r.zone_id,
    charge: r.charge,
    trafficClass: r.traffic_class,
    records: Number(r.records),
    bytes: Number(r.bytes),
    amountMicros: Number(r.amount),
  }));
}

/** The SMS records of the month (by time, in the SIM's account time zone) summed per account and plan. */
export async function sumSmsGroups(db: Executor, path: string, bounds: readonly PeriodBounds[], accountId?: string): Promise<SmsGroup[]> {
  const lo = new Date(Math.min(...bounds.map((b) => b.start.getTime())));
  const hi = new Date(Math.max(...bounds.map((b) => b.end.getTime())));
  const rows = await sql<{ account_id: string; plan_id: string | null; messages: string; amount: string }>`
    SELECT a.id AS account_id, r.plan_id, sum(r.parts) AS messages, sum(r.charge_micros) AS amount
    FROM sms_records r
    JOIN accounts a ON a.id = r.account_id
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE r.at >= ${lo} AND r.at < ${hi} AND r.at >= b.start_at AND r.at < b.end_at
      AND a.path LIKE ${likePrefix(path)} ${accountId === undefined ? sql`` : sql`AND a.id = ${accountId}`}
    GROUP BY 1, 2`.execute(db);
  return rows.rows.map((r) => ({ accountId: r.account_id, planId: r.plan_id, messages: Number(r.messages), amountMicros: Number(r.amount) }));
}

/** The priced top-ups added to SIMs in the month, summed per account, product, price, currency and paying order. */
export async function sumTopUpGroups(db: Executor, path: string, bounds: readonly PeriodBounds[], accountId?: string): Promise<TopUpGroup[]> {
  const lo = new Date(Math.min(...bounds.map((b) => b.start.getTime())));
  const hi = new Date(Math.max(...bounds.map((b) => b.end.getTime())));
  const rows = await sql<{ account_id: string; product_id: string | null; order_id: string | null; currency: string; unit: string; top_ups: string; bytes: string; price: string }>`
    SELECT a.id AS account_id, t.product_id, t.order_id, t.currency, t.price_micros AS unit, count(*) AS top_ups, sum(t.bytes) AS bytes, sum(t.price_micros) AS price
    FROM top_ups t
    JOIN accounts a ON a.id = t.account_id
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE t.price_micros IS NOT NULL AND t.created_at >= ${lo} AND t.created_at < ${hi} AND t.created_at >= b.start_at AND t.created_at < b.end_at
      AND a.path LIKE ${likePrefix(path)} ${accountId === undefined ? sql`` : sql`AND a.id = ${accountId}`}
    GROUP BY 1, 2, 3, 4, 5`.execute(db);
  return rows.rows.map((r) => ({
    accountId: r.account_id,
    productId: r.product_id,
    orderId: r.order_id,
    currency: r.currency,
    unitPriceMicros: Number(r.unit),
    topUps: Number(r.top_ups),
    bytes: Number(r.bytes),
    priceMicros: Number(r.price),
  }));
}

/** Locks the bills of a period for accounts (a re-run replaces them whole). */
export async function lockBills(db: Executor, period: string, accountIds: string[]): Promise<{ id: string; accountId: string; kind: BillKind; currency: string; revision: number }[]> {
  if (accountIds.length === 0) return [];
  const rows = await db
    .selectFrom('bills')
    .select(['id', 'account_id', 'kind', 'currency', 'revision'])
    .where('period', '=', period)
    .where('account_id', '=', sql<string>`any(${accountIds}::text[])`)
    .forUpdate()
    .execute();
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, kind: r.kind, currency: r.currency, revision: r.revision }));
}

export async function deleteBills(db: Executor, ids: string[]): Promise<void> {
  if (ids.length) await db.deleteFrom('bills').where('id', '=', sql<string>`any(${ids}::text[])`).execute();
}

/** Inserts bills and their lines: two statements whatever their number. */
export async function insertBills(db: Executor, bills: readonly (BillRecord & { lines: BillLine[] })[]): Promise<void> {
  if (bills.length === 0) return;
  const col = <T>(f: (b: BillRecord) => T) => bills.map(f);
  await sql`
    INSERT INTO bills (id, account_id, kind, period, currency, period_start, period_end, revision, total_micros, total_minor, usage_records, issued_at, issued_by)
    SELECT * FROM unnest(
      ${col((b) => b.id)}::text[], ${col((b) => b.accountId)}::text[], ${col((b) => b.kind)}::text[], ${col((b) => b.period)}::text[],
      ${col((b) => b.currency)}::text[], ${col((b) => b.periodStart)}::timestamptz[], ${col((b) => b.periodEnd)}::timestamptz[],
      ${col((b) => b.revision)}::int[], ${col((b) => b.totalMicros)}::bigint[], ${col((b) => b.totalMinor)}::bigint[],
      ${col((b) => b.usageRecords)}::bigint[], ${col((b) => b.issuedAt)}::timestamptz[], ${col((b) => b.issuedBy)}::text[])`.execute(db);
  const lines = bills.flatMap((b) => b.lines.map((l) => ({ billId: b.id, ...l })));
  const lc = <T>(f: (l: (typeof lines)[number]) => T) => lines.map(f);
  await sql`
    INSERT INTO bill_lines (bill_id, line_no, kind, plan_id, plan_name, zone_id, traffic_class, quantity, bytes, unit_price_micros, amount_micros, amount_minor, product_id, order_id)
    SELECT * FROM unnest(
      ${lc((l) => l.billId)}::text[], ${lc((l) => l.lineNo)}::int[], ${lc((l) => l.kind)}::text[], ${lc((l) => l.planId)}::text[],
      ${lc((l) => l.planName)}::text[], ${lc((l) => l.zoneId)}::text[], ${lc((l) => l.trafficClass)}::text[], ${lc((l) => l.quantity)}::bigint[], ${lc((l) => l.bytes)}::bigint[],
      ${lc((l) => l.unitPriceMicros)}::bigint[], ${lc((l) => l.amountMicros)}::bigint[], ${lc((l) => l.amountMinor)}::bigint[],
      ${lc((l) => l.productId)}::text[], ${lc((l) => l.orderId)}::text[])`.execute(db);
}

export interface BillFilter {
  period?: string;
  accountId?: string;
  kind?: BillKind;
  after?: string;
  limit: number;
}

/** Bills of accounts at or under `path`, by id. */
export async function listBills(db: Executor, path: string, filter: BillFilter): Promise<BillRecord[]> {
  let q = db
    .selectFrom('bills')
    .innerJoin('accounts', 'accounts.id', 'bills.account_id')
    .selectAll('bills')
    .where('accounts.path', 'like', likePrefix(path));
  if (filter.period) q = q.where('bills.period', '=', filter.period);
  if (filter.accountId) q = q.where('bills.account_id', '=', filter.accountId);
  if (filter.kind) q = q.where('bills.kind', '=', filter.kind);
  if (filter.after) q = q.where('bills.id', '>', filter.after);
  return (await q.orderBy('bills.id').limit(filter.limit).execute()).map(toBill);
}

/** One bill with its lines, if its account is at or under `path`. */
export async function findBill(db: Executor, id: string, path: string): Promise<(BillRecord & { lines: BillLine[] }) | undefined> {
  const row = await db
    .selectFrom('bills')
    .innerJoin('accounts', 'accounts.id', 'bills.account_id')
    .selectAll('bills')
    .where('bills.id', '=', id)
    .where('accounts.path', 'like', likePrefix(path))
    .executeTakeFirst();
  if (!row) return undefined;
  const lines = await db.selectFrom('bill_lines').selectAll().where('bill_id', '=', id).orderBy('line_no').execute();
  return { ...toBill(row), lines: lines.map(toLine) };
}

/**
 * One page of the month's usage records on the given retail plans (by end time in each record's account time zone),
 * ordered by SIM and time, after the key `after`; with the bytes the retail rating gave the test period.
 */
export async function pageWholesaleUsage(
  db: Executor,
  retailPlanIds: readonly string[],
  bounds: readonly PeriodBounds[],
  after: { iccid: string; endAt: Date; id: number } | null,
  limit: number,
): Promise<(WholesaleUsage & { id: number; endAt: Date })[]> {
  if (retailPlanIds.length === 0) return [];
  const lo = new Date(Math.min(...bounds.map((b) => b.start.getTime())));
  const hi = new Date(Math.max(...bounds.map((b) => b.end.getTime())));
  const rows = await sql<{ id: string; iccid: string; session_id: string | null; plan_id: string; end_at: Date; bytes: string; test_bytes: string; mcc_mnc: string | null }>`
    SELECT r.id, r.iccid, r.session_id, r.plan_id, r.end_at, r.bytes_in + r.bytes_out AS bytes, r.mcc_mnc,
      coalesce((SELECT sum((p->>'bytes')::bigint) FROM jsonb_array_elements(r.pieces) p WHERE p->>'kind' = 'test'), 0) AS test_bytes
    FROM usage_records r
    JOIN accounts a ON a.id = r.account_id
    JOIN ${boundsTable(bounds)} ON b.tz = a.timezone
    WHERE r.plan_id = any(${[...retailPlanIds]}::text[]) AND r.end_at >= ${lo} AND r.end_at < ${hi} AND r.end_at >= b.start_at AND r.end_at < b.end_at
      ${after === null ? sql`` : sql`AND (r.iccid, r.end_at, r.id) > (${after.iccid}, ${after.endAt}, ${after.id})`}
    ORDER BY r.iccid, r.end_at, r.id
    LIMIT ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    iccid: r.iccid,
    sessionId: r.session_id,
    retailPlanId: r.plan_id,
    endAt: r.end_at,
    atMs: r.end_at.getTime(),
    bytes: Number(r.bytes),
    testBytes: Number(r.test_bytes),
    mccMnc: r.mcc_mnc,
  }));
}

/**
 * Bills (账单): the monthly bill of an account built from what it owes for a closed billing cycle. Pure, no I/O.
 *
 * A bill has one line per charge class: the monthly fees of each plan, the first-month fees of the SIMs activated in
 * the cycle (prorated by days), and the usage of each plan in each zone split by how it was charged: at no charge
 * (included data, pool, top-ups, test period, blocked), as overage (套外) or as roaming. Every usage record of the
 * account in the cycle is in exactly one usage line, so the lines reconcile to the records to the micro.
 *
 * SMS have one line per plan (quantity: messages, each segment one; included ones at no charge) and priced top-ups
 * one line per product and price: those added on account are charged, those an order paid for are shown with their
 * order at no charge (they were paid when ordered). The SMS and top-up lines reconcile to the SMS records and the
 * top-ups the same way.
 *
 * Rounding rule: a line's exact amount in micros is the sum of its charges; it is rounded once, half up, to the
 * currency's minor unit (`roundToMinor`). The bill's total is the sum of its rounded lines.
 */
import { daysInMonth, type BillingCycle } from '../rating/billing-cycle.ts';
import { DEFAULT_CURRENCY, mulDivHalfUp, roundToMinor } from '../rating/money.ts';
import { planVersionAt, type RatePlan } from '../rating/rate-plan.ts';

export const LINE_KINDS = ['monthly_fee', 'first_month_fee', 'usage_included', 'overage', 'roaming', 'sms', 'top_up'] as const;
export type LineKind = (typeof LINE_KINDS)[number];

/** How the usage records of a usage line were charged. */
export const USAGE_CHARGES = ['none', 'overage', 'roaming'] as const;
export type UsageCharge = (typeof USAGE_CHARGES)[number];

const USAGE_LINE_KIND: Record<UsageCharge, LineKind> = { none: 'usage_included', overage: 'overage', roaming: 'roaming' };

/** Whose bill: `retail` is what an account owes for its own SIMs at their plans. */
export const BILL_KINDS = ['retail', 'wholesale'] as const;
export type BillKind = (typeof BILL_KINDS)[number];

/** SIMs of one account billed a monthly fee on one plan; `activatedDay` is the local day of activation in the cycle. */
export interface FeeGroup {
  accountId: string;
  planId: string;
  /** Null: active before the cycle, a full month. */
  activatedDay: number | null;
  sims: number;
}

/** Usage records of one account in the cycle with the same plan, zone and charge class, summed. */
export interface UsageGroup {
  accountId: string;
  planId: string | null;
  zoneId: string | null;
  charge: UsageCharge;
  /** Split billing: the records' traffic class (null: none). */
  trafficClass: string | null;
  records: number;
  bytes: number;
  amountMicros: number;
}

/** SMS records of one account in the cycle on one plan, summed. */
export interface SmsGroup {
  accountId: string;
  planId: string | null;
  /** Billed messages: the records' segments. */
  messages: number;
  amountMicros: number;
}

/** Priced top-ups of one account's SIMs added in the cycle, by product, price, currency and paying order. */
export interface TopUpGroup {
  accountId: string;
  productId: string | null;
  /** The order that paid for them; null: added on account, charged on the bill. */
  orderId: string | null;
  currency: string;
  unitPriceMicros: number;
  topUps: number;
  bytes: number;
  /** Sum of their prices. */
  priceMicros: number;
}

export interface BillLine {
  lineNo: number;
  kind: LineKind;
  planId: string | null;
  planName: string | null;
  zoneId: string | null;
  /** Split billing: the traffic class of a usage line (null: none). */
  trafficClass: string | null;
  /** SIMs for a fee line, usage records for a usage line, messages for an SMS line, top-ups for a top-up line. */
  quantity: number;
  bytes: number;
  /** The monthly fee of a fee line; null on usage lines (their records carry their own prices). */
  unitPriceMicros: number | null;
  /** Exact sum of the line's charges. */
  amountMicros: number;
  /** `amountMicros` rounded once to the minor unit. */
  amountMinor: number;
  /** The top-up product of a top-up line. */
  productId: string | null;
  /** The order that paid for the top-ups of a top-up line (they are not charged again). */
  orderId: string | null;
}

export interface BillDraft {
  accountId: string;
  kind: BillKind;
  period: string;
  currency: string;
  lines: BillLine[];
  totalMicros: number;
  totalMinor: number;
  usageRecords: number;
}

/** The plan versions known by plan id. */
export type PlanVersions = ReadonlyMap<string, readonly RatePlan[]>;

/** The version of a plan a cycle is billed at: the one in force when the cycle starts, else its first. */
export function billedVersion(versions: readonly RatePlan[], cycle: BillingCycle): RatePlan | undefined {
  return planVersionAt(versions, cycle.start) ?? versions[0];
}

/** The fee of a SIM activated on `day` of the cycle's month: the monthly fee prorated by days, the day counting. */
export function firstMonthFeeMicros(monthlyFeeMicros: number, day: number, cycle: BillingCycle): number {
  const [year, month] = cycle.month.split('-').map(Number) as [number, number];
  const total = daysInMonth(year, month);
  return mulDivHalfUp(monthlyFeeMicros, total - day + 1, total);
}

const safeSum = (a: number, b: number): number => {
  const s = a + b;
  if (!Number.isSafeInteger(s)) throw new RangeError('bill amount is beyond the exact range');
  return s;
};

interface LineDraft extends Omit<BillLine, 'lineNo' | 'amountMinor' | 'productId' | 'orderId'> {
  currency: string;
  productId?: string | null;
  orderId?: string | null;
}

function feeLines(groups: readonly FeeGroup[], plans: PlanVersions, cycle: BillingCycle): LineDraft[] {
  const lines = new Map<string, LineDraft>();
  for (const g of groups) {
    const plan = billedVersion(plans.get(g.planId) ?? [], cycle);
    // NOTE: prepaid plans are paid in advance by renewal orders; a plan without versions cannot be priced.
    if (!plan || plan.termMonths !== null) continue;
    const kind: LineKind = g.activatedDay === null ? 'monthly_fee' : 'first_month_fee';
    const each = g.activatedDay === null ? plan.monthlyFeeMicros : firstMonthFeeMicros(plan.monthlyFeeMicros, g.activatedDay, cycle);
    const key = `${kind}|${plan.id}`;
    const line = lines.get(key) ?? {
      kind,
      planId: plan.id,
      planName: plan.name,
      zoneId: null,
      trafficClass: null,
      quantity: 0,
      bytes: 0,
      unitPriceMicros: plan.monthlyFeeMicros,
      amountMicros: 0,
      currency: plan.currency,
    };
    line.quantity += g.sims;
    line.amountMicros = safeSum(line.amountMicros, mulDivHalfUp(each, g.sims, 1));
    lines.set(key, line);
  }
  return [...lines.values()];
}

function usageLines(groups: readonly UsageGroup[], plans: PlanVersions, cycle: BillingCycle): LineDraft[] {
  return groups.map((g) => {
    const plan = g.planId === null ? undefined : billedVersion(plans.get(g.planId) ?? [], cycle);
    return {
      kind: USAGE_LINE_KIND[g.charge],
      planId: g.planId,
      planName: plan?.name ?? null,
      zoneId: g.zoneId,
      trafficClass: g.trafficClass,
      quantity: g.records,
      bytes: g.bytes,
      unitPriceMicros: null,
      amountMicros: g.amountMicros,
      currency: plan?.currency ?? DEFAULT_CURRENCY,
    };
  });
}

function smsLines(groups: readonly SmsGroup[], plans: PlanVersions, cycle: BillingCycle): LineDraft[] {
  return groups.map((g) => {
    const plan = g.planId === null ? undefined : billedVersion(plans.get(g.planId) ?? [], cycle);
    return {
      kind: 'sms',
      planId: g.planId,
      planName: plan?.name ?? null,
      zoneId: null,
      trafficClass: null,
      quantity: g.messages,
      bytes: 0,
      unitPriceMicros: plan?.smsPriceMicros ?? null,
      amountMicros: g.amountMicros,
      currency: plan?.currency ?? DEFAULT_CURRENCY,
    };
  });
}

/** What a top-up group is charged on the bill: its prices, or nothing when an order paid for it. */
export const topUpChargeMicros = (g: Pick<TopUpGroup, 'orderId' | 'priceMicros'>): number => (g.orderId === null ? g.priceMicros : 0);

function topUpLines(groups: readonly TopUpGroup[]): LineDraft[] {
  return groups.map((g) => ({
    kind: 'top_up',
    planId: null,
    planName: null,
    zoneId: null,
    trafficClass: null,
    quantity: g.topUps,
    bytes: g.bytes,
    unitPriceMicros: g.unitPriceMicros,
    amountMicros: topUpChargeMicros(g),
    currency: g.currency,
    productId: g.productId,
    orderId: g.orderId,
  }));
}

const KIND_ORDER = new Map(LINE_KINDS.map((k, i) => [k, i]));
const byLineOrder = (a: LineDraft, b: LineDraft): number =>
  KIND_ORDER.get(a.kind)! - KIND_ORDER.get(b.kind)! ||
  (a.planId ?? '').localeCompare(b.planId ?? '') ||
  (a.zoneId ?? '').localeCompare(b.zoneId ?? '') ||
  (a.trafficClass ?? '').localeCompare(b.trafficClass ?? '') ||
  (a.productId ?? '').localeCompare(b.productId ?? '') ||
  (a.orderId ?? '').localeCompare(b.orderId ?? '') ||
  (a.unitPriceMicros ?? 0) - (b.unitPriceMicros ?? 0);

/** Lines that count usage records (not fees, SMS or top-ups). */
const isUsageLine = (kind: LineKind): boolean => kind === 'usage_included' || kind === 'overage' || kind === 'roaming';

/**
 * The bills of one account for a cycle: one per currency of its plans (usage without a plan counts in the default
 * currency at no charge). An account with no line has no bill.
 */
export function buildBills(input: {
  accountId: string;
  kind: BillKind;
  cycle: BillingCycle;
  plans: PlanVersions;
  fees: readonly FeeGroup[];
  usage: readonly UsageGroup[];
  sms?: readonly SmsGroup[];
  topUps?: readonly TopUpGroup[];
}): BillDraft[] {
  const drafts = [
    ...feeLines(input.fees, input.plans, input.cycle),
    ...usageLines(input.usage, input.plans, input.cycle),
    ...smsLines(input.sms ?? [], input.plans, input.cycle),
    ...topUpLines(input.topUps ?? []),
  ];
  const byCurrency = new Map<string, LineDraft[]>();
  for (const d of drafts) byCurrency.set(d.currency, [...(byCurrency.get(d.currency) ?? []), d]);
  return [...byCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, list]) => {
      const lines = list
        .sort(byLineOrder)
        .map(({ currency: _c, productId, orderId, ...l }, i) => ({ ...l, productId: productId ?? null, orderId: orderId ?? null, lineNo: i + 1, amountMinor: roundToMinor(l.amountMicros, currency) }));
      return {
        accountId: input.accountId,
        kind: input.kind,
        period: input.cycle.month,
        currency,
        lines,
        totalMicros: lines.reduce((s, l) => safeSum(s, l.amountMicros), 0),
        totalMinor: lines.reduce((s, l) => safeSum(s, l.amountMinor), 0),
        usageRecords: lines.reduce((s, l) => (isUsageLine(l.kind) ? s + l.quantity : s), 0),
      };
    });
}

// --- reconciliation ----------------------------------------------------------------------------------------------

/** A usage, SMS or top-up line that does not match the records, or records no line accounts for. */
export interface ReconciliationDifference {
  kind: LineKind;
  planId: string | null;
  zoneId: string | null;
  trafficClass: string | null;
  productId: string | null;
  orderId: string | null;
  billed: { records: number; bytes: number; amountMicros: number };
  recorded: { records: number; bytes: number; amountMicros: number };
}

export interface Reconciliation {
  /**
   * True when every usage line equals the sum of its usage records, every SMS line the sum of its SMS records and
   * every top-up line its top-ups, to the micro, and no record is left out. `billed` and `recorded` sum the usage
   * lines and records only.
   */
  balanced: boolean;
  billed: { records: number; bytes: number; amountMicros: number };
  recorded: { records: number; bytes: number; amountMicros: number };
  differences: ReconciliationDifference[];
  /** The rounded lines add up to the bill's total. */
  totalMatches: boolean;
}

type Figures = { records: number; bytes: number; amountMicros: number };
const zero = (): Figures => ({ records: 0, bytes: 0, amountMicros: 0 });
const add = (f: Figures, records: number, bytes: number, amountMicros: number): void => {
  f.records += records;
  f.bytes += bytes;
  f.amountMicros += amountMicros;
};

/**
 * Compares a bill's usage, SMS and top-up lines with the usage records, SMS records and priced top-ups of the same
 * account, cycle and currency, summed afresh.
 */
export function reconcile(
  bill: Pick<BillDraft, 'lines' | 'totalMinor'>,
  recorded: readonly UsageGroup[],
  extra: { sms?: readonly SmsGroup[]; topUps?: readonly TopUpGroup[] } = {},
): Reconciliation {
  const rows = new Map<string, ReconciliationDifference>();
  const row = (kind: LineKind, planId: string | null, zoneId: string | null, trafficClass: string | null, productId: string | null = null, orderId: string | null = null) => {
    const key = `${kind}|${planId ?? ''}|${zoneId ?? ''}|${trafficClass ?? ''}|${productId ?? ''}|${orderId ?? ''}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { kind, planId, zoneId, trafficClass, productId, orderId, billed: zero(), recorded: zero() }));
    return r;
  };
  const billed = zero();
  const fromRecords = zero();
  for (const l of bill.lines) {
    if (l.kind === 'monthly_fee' || l.kind === 'first_month_fee') continue;
    add(row(l.kind, l.planId, l.zoneId, l.trafficClass, l.productId, l.orderId).billed, l.quantity, l.bytes, l.amountMicros);
    if (isUsageLine(l.kind)) add(billed, l.quantity, l.bytes, l.amountMicros);
  }
  for (const g of recorded) {
    add(row(USAGE_LINE_KIND[g.charge], g.planId, g.zoneId, g.trafficClass).recorded, g.records, g.bytes, g.amountMicros);
    add(fromRecords, g.records, g.bytes, g.amountMicros);
  }
  for (const g of extra.sms ?? []) add(row('sms', g.planId, null, null).recorded, g.messages, 0, g.amountMicros);
  for (const g of extra.topUps ?? []) add(row('top_up', null, null, null, g.productId, g.orderId).recorded, g.topUps, g.bytes, topUpChargeMicros(g));
  const same = (a: Figures, b: Figures) => a.records === b.records && a.bytes === b.bytes && a.amountMicros === b.amountMicros;
  const differences = [...rows.values()].filter((r) => !same(r.billed, r.recorded));
  return {
    balanced: differences.length === 0,
    billed,
    recorded: fromRecords,
    differences,
    totalMatches: bill.lines.reduce((s, l) => s + l.amountMinor, 0) === bill.totalMinor,
  };
}

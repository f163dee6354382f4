/** Bill runs, bills and their reconciliation against the usage records. */
import type { Db } from '../../db/database.ts';
import { likePrefix } from '../../db/scope.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, conflict, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Account, Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { systemPrincipal } from '../accounts/bootstrap.ts';
import { type BillingCycle, cycleAt, cycleOfMonth, daysLeftInCycle } from '../rating/billing-cycle.ts';
import { loadRatingCatalog, planOwners } from '../rating/catalog.repository.ts';
import { compileRatingPlan } from '../rating/rating.ts';
import { createZoneIndex, type Zone } from '../rating/zones.ts';
import { DEFAULT_CURRENCY, formatMinor } from '../rating/money.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { RatePlan } from '../rating/rate-plan.ts';
import { type BillDraft, type BillLine, buildBills, type FeeGroup, billedVersion, type PlanVersions, type Reconciliation, reconcile, type UsageGroup } from './bill.ts';
import { type BillDocument, billCsv, billPdf, billXlsx, CONTENT_TYPES, type ExportFormat, type Lang, type PdfFont } from './bill-export.ts';
import * as repo from './bill.repository.ts';
import type { BillFilter, BillRecord, PeriodBounds } from './bill.repository.ts';
import { memberAllowanceBytes, type WholesaleTerms, WholesaleRater } from './wholesale.ts';

/** Usage records read per query when rating the wholesale level. */
const WHOLESALE_PAGE = 20_000;

export type { BillRecord } from './bill.repository.ts';
export type Bill = BillRecord & { lines: BillLine[] };

export interface BillRunResult {
  period: string;
  /** The account whose subtree was billed. */
  accountId: string;
  created: number;
  replaced: number;
  /** Bills of the period that existed already and were kept (run again with `rerun` to replace them). */
  kept: number;
  usageRecords: number;
  /** Total billed per currency, in minor units. */
  totals: Record<string, number>;
  durationMs: number;
}

const groupBy = <T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  }
  return out;
};

function planVersions(plans: readonly RatePlan[]): PlanVersions {
  return groupBy(plans, (p) => p.id);
}

/**
 * Monthly bills per account (the billing cycle is the calendar month in each account's time zone). A run bills every
 * account at or under one account for a closed month; bills are kept, and a re-run replaces them with the next
 * revision. Reads: the account itself and those above it see a bill; siblings never do.
 */
export class BillService {
  /** The month the scheduled run last billed (in memory: after a restart the run is repeated and keeps the bills). */
  private scheduledPeriod: string | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    /** The font of PDF bills; without one, PDFs are refused. */
    private readonly pdfFont?: PdfFont,
  ) {}

  private async boundsUnder(path: string, period: string): Promise<PeriodBounds[]> {
    return (await repo.timeZonesUnder(this.db, path)).map((timeZone) => ({ timeZone, ...cycleOfMonth(period, timeZone) }));
  }

  /**
   * The drafts of every account under `account` for the period, computed from the SIMs and the usage records: retail
   * bills for each account's own SIMs, and wholesale bills for each seller of plans sold on wholesale plans.
   */
  private async compute(
    account: Account,
    period: string,
    only?: string,
  ): Promise<{ drafts: BillDraft[]; cycles: Map<string, BillingCycle>; wholesaleUsage: Map<string, UsageGroup[]> }> {
    const bounds = await this.boundsUnder(account.path, period);
    const [catalog, fees, usage, accounts, sms, topUps] = await Promise.all([
      loadRatingCatalog(this.db),
      repo.sumFeeGroups(this.db, account.path, bounds),
      repo.sumUsageGroups(this.db, account.path, bounds, only),
      this.db.selectFrom('accounts').select(['id', 'timezone']).where('path', 'like', likePrefix(account.path)).orderBy('id').execute(),
      repo.sumSmsGroups(this.db, account.path, bounds, only),
      repo.sumTopUpGroups(this.db, account.path, bounds, only),
    ]);
    const plans = planVersions(catalog.plans);
    const cycleByZone = new Map(bounds.map((b) => [b.timeZone, { month: period, start: b.start, end: b.end }]));
    const cycles = new Map(accounts.map((a) => [a.id, cycleByZone.get(a.timezone)!]));
    const billed = accounts.filter((a) => only === undefined || a.id === only);
    const drafts: BillDraft[] = [];
    const feesBy = groupBy(fees, (f) => f.accountId);
    const usageBy = groupBy(usage, (u) => u.accountId);
    const smsBy = groupBy(sms, (g) => g.accountId);
    const topUpsBy = groupBy(topUps, (g) => g.accountId);
    for (const a of billed) {
      drafts.push(
        ...buildBills({
          accountId: a.id,
          kind: 'retail',
          cycle: cycles.get(a.id)!,
          plans,
          fees: feesBy.get(a.id) ?? [],
          usage: usageBy.get(a.id) ?? [],
          sms: smsBy.get(a.id) ?? [],
          topUps: topUpsBy.get(a.id) ?? [],
        }),
      );
    }
    const wholesale = await this.wholesale(account.path, catalog, plans, cycles, bounds, fees, new Set(billed.map((a) => a.id)));
    for (const a of billed) {
      const w = wholesale.get(a.id);
      if (w) drafts.push(...buildBills({ accountId: a.id, kind: 'wholesale', cycle: cycles.get(a.id)!, plans, fees: w.fees, usage: w.usage }));
    }
    return { drafts, cycles, wholesaleUsage: new Map([...wholesale].map(([id, w]) => [id, w.usage])) };
  }

  /**
   * Fees and usage of the wholesale bills of the sellers among `sellers`: the SIMs on each seller's plans that are sold
   * on a wholesale plan, priced at that plan (fees per SIM, usage rated again from the records).
   */
  private async wholesale(
    path: string,
    catalog: { zones: Zone[] },
    plans: PlanVersions,
    cycles: ReadonlyMap<string, BillingCycle>,
    bounds: readonly PeriodBounds[],
    fees: readonly FeeGroup[],
    sellers: ReadonlySet<string>,
  ): Promise<Map<string, { fees: FeeGroup[]; usage: UsageGroup[] }>> {
    const sold = [...plans.values()].map((v) => v.at(-1)!).filter((p) => p.wholesalePlanId !== null);
    const owners = await planOwners(this.db, sold.map((p) => p.id));
    const zones = createZoneIndex(catalog.zones);
    const terms = new Map<string, WholesaleTerms>();
    for (const p of sold) {
      const seller = owners.get(p.id);
      const cycle = seller === undefined ? undefined : cycles.get(seller);
      if (seller === undefined || !sellers.has(seller) || !cycle) continue;
      const retail = billedVersion(plans.get(p.id)!, cycle);
      const w = retail?.wholesalePlanId ? billedVersion(plans.get(retail.wholesalePlanId) ?? [], cycle) : undefined;
      if (w) terms.set(p.id, { sellerAccountId: seller, plan: compileRatingPlan(w, zones) });
    }
    const out = new Map<string, { fees: FeeGroup[]; usage: UsageGroup[] }>();
    if (terms.size === 0) return out;
    const entry = (seller: string) => out.get(seller) ?? out.set(seller, { fees: [], usage: [] }).get(seller)!;
    for (const f of fees) {
      const t = terms.get(f.planId);
      if (t) entry(t.sellerAccountId).fees.push({ ...f, accountId: t.sellerAccountId, planId: t.plan.plan.id });
    }
    // A seller's pool on a wholesale plan: its members' wholesale allowances, prorated from the day each joined.
    const poolSizes = new Map<string, number>();
    for (const g of await repo.sumPoolJoinGroups(this.db, path, bounds, [...terms.keys()])) {
      const t = terms.get(g.planId)!;
      const key = `${t.sellerAccountId}|${t.plan.plan.id}`;
      poolSizes.set(key, (poolSizes.get(key) ?? 0) + g.sims * memberAllowanceBytes(t.plan.plan.includedBytes, g.activatedDay, cycles.get(t.sellerAccountId)!));
    }
    const rater = new WholesaleRater(
      (planId) => terms.get(planId),
      (seller, planId) => poolSizes.get(`${seller}|${planId}`) ?? 0,
    );
    let after: { iccid: string; endAt: Date; id: number } | null = null;
    for (;;) {
      const page = await repo.pageWholesaleUsage(this.db, [...terms.keys()], bounds, after, WHOLESALE_PAGE);
      for (const r of page) rater.add(r);
      if (page.length < WHOLESALE_PAGE) break;
      const last = page.at(-1)!;
      after = { iccid: last.iccid, endAt: last.endAt, id: last.id };
    }
    for (const g of rater.groups()) entry(g.accountId).usage.push(g);
    return out;
  }

  /**
   * Bills every account at or under `accountId` (default: the caller's) for a closed month. Accounts already billed
   * for the month keep their bills unless `rerun`, which replaces them (revision + 1) with figures computed afresh.
   */
  async runBills(principal: Principal, input: { period: string; accountId?: string; rerun?: boolean }): Promise<BillRunResult> {
    requirePermission(principal, 'bills:write');
    const started = performance.now();
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    const now = this.clock.now();
    const bounds = await this.boundsUnder(account.path, input.period);
    const open = bounds.find((b) => b.end.getTime() > now.getTime());
    if (open) {
      throw conflict('period_not_closed', `${input.period} is not over in ${open.timeZone} until ${open.end.toISOString()}: bills are run for closed months (use the preview for the current one)`);
    }
    const { drafts, cycles } = await this.compute(account, input.period);
        const result = await this.db.transaction().execute(async (trx) => {
      const existing = await repo.lockBills(trx, input.period, [...new Set(drafts.map((d) => d.accountId))]);
      const existingBy = new Map(existing.map((e) => [`${e.accountId}|${e.kind}|${e.currency}`, e]));
      const billedAccounts = new Set(existing.map((e) => `${e.accountId}|${e.kind}`));
      const toWrite: Bill[] = [];
      let kept = 0;
      for (const d of drafts) {
        const before = existingBy.get(`${d.accountId}|${d.kind}|${d.currency}`);
        if (billedAccounts.has(`${d.accountId}|${d.kind}`) && !input.rerun) {
          kept++;
          continue;
        }
        const cycle = cycles.get(d.accountId)!;
        toWrite.push({ ...d, id: newId('bill'), periodStart: cycle.start, periodEnd: cycle.end, revision: (before?.revision ?? 0) + 1, issuedAt: now, issuedBy: principal.actor });
      }
      const replacedIds = input.rerun ? existing.map((e) => e.id) : [];
      await repo.deleteBills(trx, replacedIds);
      await repo.insertBills(trx, toWrite);
      await publishEvents(
        trx,
        toWrite.map((b) => ({
          type: 'bill.issued',
          accountId: b.accountId,
          subject: { kind: 'account', id: b.accountId },
          data: { billId: b.id, kind: b.kind, period: b.period, revision: b.revision, currency: b.currency, total: formatMinor(b.totalMinor, b.currency), usageRecords: b.usageRecords },
        })),
        now,
      );
      return { written: toWrite, kept, replaced: replacedIds.length };
    });
    const totals: Record<string, number> = {};
    for (const b of result.written) totals[b.currency] = (totals[b.currency] ?? 0) + b.totalMinor;
    return {
      period: input.period,
      accountId: account.id,
      created: result.written.length - Math.min(result.replaced, result.written.length),
      replaced: result.replaced,
      kept: result.kept,
      usageRecords: result.written.reduce((s, b) => s + b.usageRecords, 0),
      totals,
      durationMs: Math.round(performance.now() - started),
    };
  }

  /**
   * The monthly run of the scheduler: from day `runDay` of a month on (in the operator's time zone), bills the month
   * before for every account, once; bills that exist are kept. Returns the bills created. `runDay` 0: never.
   */
  async runScheduledBills(runDay: number): Promise<number> {
    if (runDay === 0) return 0;
    const principal = await systemPrincipal(this.db, 'system:billing');
    const root = await this.accounts.getAccount(principal, principal.accountId);
    const now = this.clock.now();
    const { daysLeft, daysInMonth } = daysLeftInCycle(now, root.timezone);
    if (daysInMonth - daysLeft + 1 < runDay) return 0;
    const period = cycleAt(new Date(cycleAt(now, root.timezone).start.getTime() - 1), root.timezone).month;
    if (this.scheduledPeriod === period) return 0;
    try {
      const result = await this.runBills(principal, { period });
      this.scheduledPeriod = period;
      return result.created;
    } catch (e) {
      // Another time zone under the operator has not finished the month yet: the next pass tries again.
      if (e instanceof AppError && e.code === 'period_not_closed') return 0;
      throw e;
    }
  }

  /** What the bills of one account for a month (open or closed) would be now; nothing is stored. */
  async previewBills(principal: Principal, input: { period: string; accountId?: string }): Promise<BillDraft[]> {
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    return (await this.compute(account, input.period, account.id)).drafts;
  }

  listBills(principal: Principal, filter: BillFilter): Promise<BillRecord[]> {
    if (filter.period) cycleOfMonth(filter.period);
    return repo.listBills(this.db, principal.accountPath, filter);
  }

  async getBill(principal: Principal, id: string): Promise<Bill> {
    const bill = await repo.findBill(this.db, id, principal.accountPath);
    if (!bill) throw notFound('bill', id);
    return bill;
  }

  /**
   * Proves a bill against the usage records: sums the records of its account and month afresh and compares them with
   * its usage lines, to the micro; a retail bill's SMS and top-up lines likewise against the SMS records and the
   * priced top-ups. A record that arrived after the run (a late CDR) shows as a difference.
   */
  async reconcileBill(principal: Principal, id: string): Promise<Reconciliation & { billId: string; currency: string }> {
    const bill = await this.getBill(principal, id);
    const account = await this.accounts.getAccount(principal, bill.accountId);
    const bounds: PeriodBounds[] = [{ timeZone: account.timezone, start: bill.periodStart, end: bill.periodEnd }];
    const retail = bill.kind === 'retail';
    const [usage, catalog, sms, topUps] = await Promise.all([
      retail
        ? repo.sumUsageGroups(this.db, account.path, bounds, account.id)
        : this.compute(account, bill.period, account.id).then((c) => c.wholesaleUsage.get(account.id) ?? []),
      loadRatingCatalog(this.db),
      retail ? repo.sumSmsGroups(this.db, account.path, bounds, account.id) : [],
      retail ? repo.sumTopUpGroups(this.db, account.path, bounds, account.id) : [],
    ]);
    const plans = planVersions(catalog.plans);
    const cycle: BillingCycle = { month: bill.period, start: bill.periodStart, end: bill.periodEnd };
    const currencyOf = (g: Pick<UsageGroup, 'planId'>) => (g.planId === null ? undefined : billedVersion(plans.get(g.planId) ?? [], cycle)?.currency) ?? DEFAULT_CURRENCY;
    return {
      billId: bill.id,
      currency: bill.currency,
      ...reconcile(
        bill,
        usage.filter((g) => currencyOf(g) === bill.currency),
        { sms: sms.filter((g) => currencyOf(g) === bill.currency), topUps: topUps.filter((g) => g.currency === bill.currency) },
      ),
    };
  }

  /** A bill as a CSV, XLSX or PDF document in Chinese or English. */
  async exportBill(principal: Principal, id: string, format: ExportFormat, lang: Lang): Promise<{ body: Buffer; contentType: string; fileName: string }> {
    const bill = await this.getBill(principal, id);
    if (format === 'pdf' && !this.pdfFont) {
      throw new AppError('pdf_font_missing', 'no font with Chinese glyphs is installed for PDF bills: install fonts-wqy-microhei or set BILL_PDF_FONT to a .ttf/.otf/.ttc file', 503);
    }
    const [account, zones] = await Promise.all([this.accounts.getAccount(principal, bill.accountId), this.db.selectFrom('zones').select(['id', 'name']).execute()]);
    const doc: BillDocument = { ...bill, accountName: account.name, zoneNames: new Map(zones.map((z) => [z.id, z.name])) };
    const body = format === 'csv' ? billCsv(doc, lang) : format === 'xlsx' ? await billXlsx(doc, lang) : await billPdf(doc, lang, this.pdfFont!);
    return { body, contentType: CONTENT_TYPES[format], fileName: `${bill.id}-${bill.period}.${format}` };
  }
}

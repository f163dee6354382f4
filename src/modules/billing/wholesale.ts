/**
 * Wholesale rating (two-level pricing): a reseller sells its own plans to its customers on top of the plans it buys
 * from the account above it. The retail level is rated in real time; the wholesale level is rated for the bill, from
 * the same usage records, by the same rating function at the wholesale plan's terms, SIM by SIM in time order. Pure.
 */
import { daysInMonth, type BillingCycle } from '../rating/billing-cycle.ts';
import { mulDivFloor } from '../rating/money.ts';
import { openPool, openSimBalance, type PoolBalance, rateUsage, type RatingPlan, type SimBalance } from '../rating/rating.ts';
import type { UsageCharge, UsageGroup } from './bill.ts';

/** One usage record of a SIM on a retail plan that is sold on a wholesale plan. */
export interface WholesaleUsage {
  iccid: string;
  sessionId: string | null;
  retailPlanId: string;
  atMs: number;
  /** Bytes up and down as counted. */
  bytes: number;
  /** Bytes the retail rating gave to the test period: free at both levels. */
  testBytes: number;
  mccMnc: string | null;
}

/** What a retail plan is sold on: the seller (the retail plan's owner) and the wholesale plan, prepared for rating. */
export interface WholesaleTerms {
  sellerAccountId: string;
  plan: RatingPlan;
}

/**
 * What one member brings to a pool in a cycle: the whole allowance, or for a member that joined on local day
 * `joinedDay` of the cycle's month the days from then on, rounded down (as `poolSizeBytes`).
 */
export function memberAllowanceBytes(allowanceBytes: number, joinedDay: number | null, cycle: BillingCycle): number {
  if (joinedDay === null) return allowanceBytes;
  const [year, month] = cycle.month.split('-').map(Number) as [number, number];
  const total = daysInMonth(year, month);
  return mulDivFloor(allowanceBytes, total - joinedDay + 1, total);
}

const chargeOf = (pieces: readonly { kind: string; amountMicros: number }[], amountMicros: number): UsageCharge =>
  amountMicros === 0 ? 'none' : pieces.some((p) => p.kind === 'roaming' && p.amountMicros > 0) ? 'roaming' : 'overage';

/**
 * Rates records at wholesale terms. Feed it every record of the cycle ordered by SIM, then time (`add`); `groups`
 * sums them per seller, wholesale plan, zone and charge like the retail usage lines. A pooled wholesale plan shares
 * one pool per seller, sized by `poolSizeBytes`.
 */
export class WholesaleRater {
  private iccid: string | null = null;
  private balance: SimBalance | null = null;
  private balancePlan: string | null = null;
  private sessions = new Map<string, number>();
  private readonly pools = new Map<string, PoolBalance>();
  private readonly sums = new Map<string, UsageGroup>();

  constructor(
    private readonly termsOf: (retailPlanId: string) => WholesaleTerms | undefined,
    private readonly poolSizeBytes: (sellerAccountId: string, wholesalePlanId: string) => number,
  ) {}

  add(r: WholesaleUsage): void {
    const terms = this.termsOf(r.retailPlanId);
    if (!terms) return;
    const plan = terms.plan.plan;
    if (r.iccid !== this.iccid) {
      this.iccid = r.iccid;
      this.sessions = new Map();
      this.balance = null;
    }
    if (this.balance === null || this.balancePlan !== plan.id) {
      this.balance = openSimBalance(plan, { testRemainingBytes: 0 });
      this.balancePlan = plan.id;
    }
    const poolKey = `${terms.sellerAccountId}|${plan.id}`;
    let pool: PoolBalance | null = null;
    if (plan.sharing === 'pooled') {
      pool = this.pools.get(poolKey) ?? openPool(this.poolSizeBytes(terms.sellerAccountId, plan.id));
    }
    const sessionKey = r.sessionId ?? '';
    const before = r.sessionId === null ? 0 : (this.sessions.get(sessionKey) ?? 0);
    const bytes = Math.max(0, r.bytes - r.testBytes);
    const result = rateUsage(terms.plan, this.balance, pool, { bytes, sessionBytesBefore: before, mccMnc: r.mccMnc, atMs: r.atMs, inTestPeriod: false });
    if (r.sessionId !== null) this.sessions.set(sessionKey, before + bytes);
    this.balance = result.sim;
    if (result.pool) this.pools.set(poolKey, result.pool);
    const charge = chargeOf(result.pieces, result.amountMicros);
    const key = `${terms.sellerAccountId}|${plan.id}|${result.zoneId ?? ''}|${charge}`;
    const g = this.sums.get(key) ?? { accountId: terms.sellerAccountId, planId: plan.id, zoneId: result.zoneId, charge, trafficClass: null, records: 0, bytes: 0, amountMicros: 0 };
    g.records += 1;
    g.bytes += r.bytes;
    g.amountMicros += result.amountMicros;
    this.sums.set(key, g);
  }

  groups(): UsageGroup[] {
    return [...this.sums.values()];
  }
}

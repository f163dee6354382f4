import type { Db } from '../db/database.ts';
import { loadRatingCatalog } from '../modules/rating/catalog.repository.ts';
import { loadTrafficRules } from '../modules/billing/traffic-rule.repository.ts';
import { TrafficClassifier } from '../modules/billing/traffic-class.ts';
import type { BalanceRow, PoolRow, UsageRow } from '../modules/usage/ingest.repository.ts';
import { planVersionAt, type RatePlan } from '../modules/rating/rate-plan.ts';
import {
  addTopUp,
  balanceFromStored,
  compileRatingPlan,
  enforcementOf,
  openPool,
  openSimBalance,
  type PoolBalance,
  rateUsage,
  type RatingPlan,
  type RatingResult,
  resizePool,
  type SimBalance,
  type TopUp,
} from '../modules/rating/rating.ts';
import { createZoneIndex, type ZoneIndex } from '../modules/rating/zones.ts';
import { cycleOfMonth, poolSizeBytes } from '../modules/rating/billing-cycle.ts';
import { localMonth } from '../shared/time-zone.ts';
import type { LivePool } from '../modules/rating/pool.service.ts';
import type { HotSim } from './sim-index.ts';

/** A SIM's balances in the cycle they belong to, under the plan they were opened with. */
export interface HeldBalance {
  accountId: string;
  cycle: string;
  planId: string;
  balance: SimBalance;
}

/** What rating one delta changed: enough to write it and to undo it. */
export interface Rated {
  result: RatingResult;
  plan: RatePlan;
  cycle: string;
  /** The SIM's balance before (undefined: none was held) and the pool's. */
  before: HeldBalance | undefined;
  poolKey: string | null;
  poolBefore: PoolBalance | undefined;
}

/** The members of one account's pooled plan: `account|plan`; with the cycle appended, the key of its pool. */
const membersKeyOf = (accountId: string, planId: string): string => `${accountId}|${planId}`;
const poolKeyOf = (accountId: string, planId: string, cycle: string): string => `${membersKeyOf(accountId, planId)}|${cycle}`;

/** A SIM counted for the pool of its account and plan, from `joinedAtMs` on. */
interface Membership {
  accountId: string;
  planId: string;
  joinedAtMs: number;
  timezone: string;
}

/** The computed size of one pool in one cycle, under the plan version it was computed with. */
interface PoolSize {
  plan: RatePlan;
  cycle: string;
  timezone: string;
  bytes: number;
}

/**
 * The rating state of the usage engine, in memory: the zone catalogue and every plan version, each SIM's balance of
 * its current cycle and each pool's. Rating a delta changes the state at once; the caller writes the new balances in
 * the same group commit as the usage records, and undoes the change if that commit fails.
 */
export class RatingBook {
  private zones: ZoneIndex = createZoneIndex([]);
  private traffic = new TrafficClassifier([], () => undefined);
  private versions = new Map<string, RatePlan[]>();
  private compiled = new Map<RatePlan, RatingPlan>();
  private readonly balances = new Map<string, HeldBalance>();
  private readonly pools = new Map<string, PoolBalance>();
  /** Top-ups of SIMs that hold no balance yet: the balance they open takes them. */
  private readonly pendingTopUps = new Map<string, TopUp[]>();
  /** Each SIM counted for a plan's pool, by ICCID, and the members of each account and plan (`account|plan`). */
  private readonly memberOf = new Map<string, Membership>();
  private readonly members = new Map<string, Map<string, Membership>>();
  /** Pool sizes by pool key, computed from the members when first needed after a membership change. */
  private readonly sizes = new Map<string, PoolSize>();
  /** What members that left brought to a pool in its cycle (by pool key): kept until the cycle ends. */
  private readonly keptBytes = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly allSims: () => Iterable<HotSim>,
    private readonly now: () => Date,
  ) {}

  /** Loads the catalogue and the balances last committed. */
  async load(): Promise<{ plans: number; balances: number; pools: number }> {
    await this.reloadCatalog();
    const [balances, pools] = await Promise.all([
      this.db.selectFrom('sim_balances').selectAll().execute(),
      this.db.selectFrom('pool_balances').selectAll().execute(),
    ]);
    for (const b of balances) this.balances.set(b.iccid, { accountId: b.account_id, cycle: b.cycle, planId: b.plan_id, balance: balanceFromStored(b.balance) });
    for (const p of pools) {
      const key = poolKeyOf(p.account_id, p.plan_id, p.cycle);
      this.pools.set(key, { sizeBytes: Number(p.size_bytes), remainingBytes: Number(p.remaining_bytes) });
      // NOTE: a stored pool larger than its members now make it holds what members that left brought; it stays.
      const computed = this.computedSize(p.account_id, p.plan_id, p.cycle);
      if (computed !== undefined && Number(p.size_bytes) > computed) this.keptBytes.set(key, Number(p.size_bytes) - computed);
    }
    // NOTE: a top-up is stored before the engine commits the balance that holds it; one the balance lacks is added.
    const topUps = await this.db.selectFrom('top_ups').select(['id', 'iccid', 'bytes', 'expires_at']).where('expires_at', '>', this.now()).execute();
    for (const t of topUps) this.addTopUp(t.iccid, { id: t.id, remainingBytes: Number(t.bytes), expiresAtMs: t.expires_at.getTime() });
    return { plans: this.versions.size, balances: balances.length, pools: pools.length };
  }

  /** Reads zones, plans and the split-billing rules again (after a change to one of them). */
  async reloadCatalog(): Promise<void> {
    const [{ zones, plans }, traffic] = await Promise.all([loadRatingCatalog(this.db), loadTrafficRules(this.db)]);
    const paths = new Map(traffic.accounts.map((a) => [a.id, a.path]));
    this.traffic = new TrafficClassifier(traffic.rules, (id) => paths.get(id));
    const versions = new Map<string, RatePlan[]>();
    for (const p of plans) {
      const list = versions.get(p.id);
      if (list) list.push(p);
      else versions.set(p.id, [p]);
    }
    this.zones = createZoneIndex(zones);
    this.versions = versions;
    this.compiled = new Map();
    this.sizes.clear();
    // NOTE: a plan that became pooled (or stopped being) changes who counts; one pass over the SIMs, on catalogue changes only.
    this.simsChanged();
  }

  /**
   * The live pools of an account in the cycle of `at` (its time zone `timezone`): each pooled plan with members now,
   * or a pool already opened in the cycle, sized as rating would size it, with what is left.
   */
  poolsOf(accountId: string, timezone: string, at: Date): LivePool[] {
    const cycle = localMonth(at, timezone);
    const planIds = new Set<string>();
    for (const [base, members] of this.members) if (members.size > 0 && base.startsWith(`${accountId}|`)) planIds.add(base.slice(accountId.length + 1));
    for (const key of this.pools.keys()) {
      const [a, planId, c] = key.split('|') as [string, string, string];
      if (a === accountId && c === cycle) planIds.add(planId);
    }
    const out: LivePool[] = [];
    for (const planId of [...planIds].sort()) {
      const plan = planVersionAt(this.versions.get(planId) ?? [], at);
      if (plan?.sharing !== 'pooled') continue;
      const key = poolKeyOf(accountId, planId, cycle);
      const pool = this.sizedPool(this.pools.get(key), key, { accountId, timezone }, plan, cycle);
      out.push({ planId, cycle, members: this.members.get(membersKeyOf(accountId, planId))?.size ?? 0, sizeBytes: pool.sizeBytes, remainingBytes: pool.remainingBytes });
    }
    return out;
  }

  /** Takes every SIM's plan membership from the SIM index again (after changes made around the SIM service). */
  simsChanged(): void {
    for (const sim of this.allSims()) this.track(sim);
  }

  /**
   * Takes a SIM's plan membership as it is now: a SIM that joins a pool adds its allowance from its join day on
   * (prorated by days); one that leaves keeps what it brought in the pool until the cycle ends. O(1) unless it changed.
   */
  track(sim: HotSim): void {
    const old = this.memberOf.get(sim.iccid);
    // NOTE: only SIMs on a plan that is pooled now are kept, so memory grows with pool members, not with all SIMs.
    const joinedAtMs = sim.planId === null || sim.planJoinedAtMs === null || !this.isPooled(sim.planId) ? null : sim.planJoinedAtMs;
    if (old && joinedAtMs !== null && old.planId === sim.planId && old.accountId === sim.accountId && old.joinedAtMs === joinedAtMs) {
      if (old.timezone !== sim.timezone) {
        old.timezone = sim.timezone;
        this.forgetSizes(old.accountId, old.planId);
      }
      return;
    }
    if (!old && joinedAtMs === null) return;
    if (old) this.leave(sim.iccid, old);
    if (joinedAtMs !== null && sim.planId !== null) {
      const m: Membership = { accountId: sim.accountId, planId: sim.planId, joinedAtMs, timezone: sim.timezone };
      const base = membersKeyOf(m.accountId, m.planId);
      const list = this.members.get(base) ?? this.members.set(base, new Map()).get(base)!;
      list.set(sim.iccid, m);
      this.memberOf.set(sim.iccid, m);
      // NOTE: a join adds its share to the sizes already worked out, so members joining one by one under load cost
      // O(1) each, not a pass over all members each.
      for (const [key, size] of this.sizes) {
        if (key.startsWith(`${base}|`)) size.bytes += this.share(size.plan, m.joinedAtMs, size.cycle, size.timezone);
      }
    }
  }

  private isPooled(planId: string): boolean {
    return planVersionAt(this.versions.get(planId) ?? [], this.now())?.sharing === 'pooled';
  }

  /** A SIM that is gone (deleted) leaves its pool, keeping what it brought there until the cycle ends. */
  forgetMember(iccid: string): void {
    const old = this.memberOf.get(iccid);
    if (old) this.leave(iccid, old);
  }

  private leave(iccid: string, old: Membership): void {
    const base = membersKeyOf(old.accountId, old.planId);
    const cycle = localMonth(this.now(), old.timezone);
    const plan = planVersionAt(this.versions.get(old.planId) ?? [], this.now());
    if (plan?.sharing === 'pooled') {
      const key = `${base}|${cycle}`;
      const brought = this.share(plan, old.joinedAtMs, cycle, old.timezone);
      if (brought > 0) this.keptBytes.set(key, (this.keptBytes.get(key) ?? 0) + brought);
    }
    this.members.get(base)?.delete(iccid);
    this.memberOf.delete(iccid);
    // NOTE: in the current cycle what it brought stays (kept above), so that size is unchanged; other cycles are worked out again.
    for (const key of this.sizes.keys()) if (key.startsWith(`${base}|`) && key !== `${base}|${cycle}`) this.sizes.delete(key);
  }

  /** The plan version that rates a SIM's usage at `at`, if it has a plan in force. */
  planOf(sim: HotSim, at: Date): RatePlan | undefined {
    return sim.planId ? planVersionAt(this.versions.get(sim.planId) ?? [], at) : undefined;
  }

  /**
   * What a usage record stores of its rating: plan, charge, zone and pieces, and its traffic class and payer
   * (`destinationClass`: what the gateway reported the usage went to, if anything).
   */
  recordFields(
    sim: HotSim,
    apn: string | null,
    rated: Rated | undefined,
    destinationClass: string | null = null,
  ): Pick<UsageRow, 'planId' | 'chargeMicros' | 'zoneId' | 'pieces' | 'trafficClass' | 'payerAccountId'> {
    const zoneId = rated ? rated.result.zoneId : null;
    const { trafficClass, payerAccountId } = this.traffic.classify(sim.accountId, apn, zoneId, destinationClass);
    if (!rated) return { planId: null, chargeMicros: 0, zoneId: null, pieces: null, trafficClass, payerAccountId };
    return { planId: rated.plan.id, chargeMicros: rated.result.amountMicros, zoneId, pieces: rated.result.pieces, trafficClass, payerAccountId };
  }

  /** The version of plan `planId` in force at `at` (SMS are rated with it outside the data hot path). */
  planVersion(planId: string, at: Date): RatePlan | undefined {
    return planVersionAt(this.versions.get(planId) ?? [], at);
  }

  balanceOf(iccid: string): HeldBalance | undefined {
    return this.balances.get(iccid);
  }

  /**
   * Rates `bytes` used by `sim` at `at` (`sessionBytesBefore`: bytes of the same session counted before, for the
   * rating increment). Undefined when the SIM has no plan in force: its usage is counted, not rated.
   */
  rate(sim: HotSim, bytes: number, sessionBytesBefore: number, mccMnc: string | null, at: Date): Rated | undefined {
    const plan = this.planOf(sim, at);
    if (!plan) return undefined;
    const cycle = localMonth(at, sim.timezone);
    const before = this.balances.get(sim.iccid);
    const held = before && before.cycle === cycle && before.planId === plan.id ? before.balance : this.openBalance(sim.iccid, plan, before, at);
    let poolKey: string | null = null;
    let poolBefore: PoolBalance | undefined;
    let pool: PoolBalance | null = null;
    if (plan.sharing === 'pooled') {
      this.track(sim);
      poolKey = poolKeyOf(sim.accountId, plan.id, cycle);
      poolBefore = this.pools.get(poolKey);
      pool = this.sizedPool(poolBefore, poolKey, sim, plan, cycle);
    }
    const result = rateUsage(this.compile(plan), held, pool, { bytes, sessionBytesBefore, mccMnc, atMs: at.getTime(), inTestPeriod: sim.state === 'test' });
    this.balances.set(sim.iccid, { accountId: sim.accountId, cycle, planId: plan.id, balance: result.sim });
    if (poolKey && result.pool) this.pools.set(poolKey, result.pool);
    return { result, plan, cycle, before, poolKey, poolBefore };
  }

  /**
   * Adds a top-up to the SIM's balance, or keeps it for the balance the SIM opens next. Undefined when the SIM has it
   * already; otherwise how to take it back.
   */
  addTopUp(iccid: string, topUp: TopUp): { undo: () => void } | undefined {
    const held = this.balances.get(iccid);
    if (held) {
      if (held.balance.topUps.some((t) => t.id === topUp.id)) return undefined;
      this.balances.set(iccid, { ...held, balance: addTopUp(held.balance, topUp) });
      return { undo: () => this.balances.set(iccid, held) };
    }
    const pending = this.pendingTopUps.get(iccid) ?? [];
    if (pending.some((t) => t.id === topUp.id)) return undefined;
    this.pendingTopUps.set(iccid, [...pending, topUp]);
    return { undo: () => this.pendingTopUps.set(iccid, pending) };
  }

  /** Whether a SIM suspended for quota has data again (a top-up, a new cycle), judged as rating would at `at`. */
  hasDataAgain(sim: HotSim, at: Date): boolean {
    const plan = this.planOf(sim, at);
    const held = this.balances.get(sim.iccid);
    if (!plan || !held) return false;
    const cycle = localMonth(at, sim.timezone);
    if (held.cycle !== cycle || held.planId !== plan.id) return true;
    const key = poolKeyOf(sim.accountId, plan.id, cycle);
    const pool = plan.sharing === 'pooled' ? this.sizedPool(this.pools.get(key), key, sim, plan, cycle) : null;
    const e = enforcementOf(this.compile(plan), held.balance, pool, { mccMnc: null, atMs: at.getTime(), inTestPeriod: false });
    return e !== 'quota' && e !== 'cutoff';
  }

  /**
   * The balance a SIM opens in a new cycle or on a new plan. The test allowance is for the SIM's life and top-ups
   * for their own term, so both carry over (used-up top-ups too, so that a restart cannot add them again).
   */
  private openBalance(iccid: string, plan: RatePlan, before: HeldBalance | undefined, at: Date): SimBalance {
    const carried = before ? before.balance.topUps : (this.pendingTopUps.get(iccid) ?? []);
    const topUps = carried.filter((t) => t.expiresAtMs > at.getTime()).sort((a, b) => a.expiresAtMs - b.expiresAtMs);
    return openSimBalance(plan, { ...(before ? { testRemainingBytes: before.balance.testRemainingBytes } : {}), topUps });
  }

  /** Puts back what `rate` changed. */
  undo(sim: HotSim, rated: Rated): void {
    if (rated.before) this.balances.set(sim.iccid, rated.before);
    else this.balances.delete(sim.iccid);
    if (rated.poolKey) {
      if (rated.poolBefore) this.pools.set(rated.poolKey, rated.poolBefore);
      else this.pools.delete(rated.poolKey);
    }
  }

  /** Current rows to write for these SIMs and pools (absolute values, so writing them again is harmless). */
  rows(iccids: Iterable<string>, poolKeys: Iterable<string>): { balances: BalanceRow[]; pools: PoolRow[] } {
    const balances: BalanceRow[] = [];
    for (const iccid of iccids) {
      const held = this.balances.get(iccid);
      if (held) balances.push({ iccid, ...held });
    }
    const pools: PoolRow[] = [];
    for (const key of poolKeys) {
      const p = this.pools.get(key);
      const [accountId, planId, cycle] = key.split('|') as [string, string, string];
      if (p) pools.push({ accountId, planId, cycle, sizeBytes: p.sizeBytes, remainingBytes: p.remainingBytes });
    }
    return { balances, pools };
  }

  private compile(plan: RatePlan): RatingPlan {
    let rp = this.compiled.get(plan);
    if (!rp) this.compiled.set(plan, (rp = compileRatingPlan(plan, this.zones)));
    return rp;
  }

  /** The pool of a pooled plan in a cycle, opened or resized to its size (see `poolSize`). */
  private sizedPool(pool: PoolBalance | undefined, key: string, sim: Pick<HotSim, 'accountId' | 'timezone'>, plan: RatePlan, cycle: string): PoolBalance {
    const size = this.poolSize(key, sim.accountId, plan, cycle, sim.timezone);
    if (!pool) return openPool(size);
    return pool.sizeBytes === size ? pool : resizePool(pool, size - pool.sizeBytes);
  }

  /**
   * The size of a pool in a cycle: its members' allowances (those who joined during the cycle prorated by days, see
   * `poolSizeBytes`) and what members that left during the cycle brought. Computed once per membership change.
   */
  private poolSize(key: string, accountId: string, plan: RatePlan, cycle: string, timezone: string): number {
    const cached = this.sizes.get(key);
    if (cached && cached.plan === plan && cached.timezone === timezone) return cached.bytes;
    const members = [...(this.members.get(membersKeyOf(accountId, plan.id))?.values() ?? [])].map((m) => ({ allowanceBytes: plan.includedBytes, joinedAt: new Date(m.joinedAtMs) }));
    const bytes = poolSizeBytes(members, cycleOfMonth(cycle, timezone), timezone) + (this.keptBytes.get(key) ?? 0);
    this.sizes.set(key, { plan, cycle, timezone, bytes });
    return bytes;
  }

  /** What one member that joined at `joinedAtMs` adds to a pool of `plan` in `cycle`. */
  private share(plan: RatePlan, joinedAtMs: number, cycle: string, timezone: string): number {
    return poolSizeBytes([{ allowanceBytes: plan.includedBytes, joinedAt: new Date(joinedAtMs) }], cycleOfMonth(cycle, timezone), timezone);
  }

  /** The members' part of a stored pool's size (without what members that left brought); undefined: no members. */
  private computedSize(accountId: string, planId: string, cycle: string): number | undefined {
    const members = [...(this.members.get(membersKeyOf(accountId, planId))?.values() ?? [])];
    const timezone = members[0]?.timezone;
    if (timezone === undefined) return 0;
    const c = cycleOfMonth(cycle, timezone);
    const plan = planVersionAt(this.versions.get(planId) ?? [], new Date(Math.min(this.now().getTime(), c.end.getTime() - 1)));
    if (!plan) return undefined;
    return poolSizeBytes(members.map((m) => ({ allowanceBytes: plan.includedBytes, joinedAt: new Date(m.joinedAtMs) })), c, timezone);
  }

  private forgetSizes(accountId: string, planId: string): void {
    const prefix = `${membersKeyOf(accountId, planId)}|`;
    for (const key of this.sizes.keys()) if (key.startsWith(prefix)) this.sizes.delete(key);
  }
}

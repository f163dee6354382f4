import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { SimState, SuspendReason } from '../modules/sims/sim.ts';
import { Interned } from '../shared/interned.ts';
import type { PolicySlot } from './policy-book.ts';

/** What the hot path needs to know about a SIM, held in memory. */
export interface HotSim {
  iccid: string;
  accountId: string;
  timezone: string;
  state: SimState;
  suspendReason: SuspendReason | null;
  msisdn: string | null;
  imsis: string[];
  testAllowanceBytes: number | null;
  testUsedBytes: number;
  usageDay: string | null;
  usageDayBytes: number;
  usageCycle: string | null;
  usageCycleBytes: number;
  /** The rate plan the SIM's usage is rated with, if any. */
  planId: string | null;
  /** When the SIM began to count for its plan's pool: activation, or the later move onto the plan; null: not a member. */
  planJoinedAtMs: number | null;
  /** The policy book's hold on the SIM's policy state; absent until the book has read it. */
  policySlot?: PolicySlot;
}

interface Row {
  iccid: string;
  account_id: string;
  timezone: string;
  state: string;
  suspend_reason: string | null;
  msisdn: string | null;
  imsis: string[];
  test_allowance_bytes: number | null;
  test_used_bytes: number;
  usage_day: string | null;
  usage_day_bytes: number;
  usage_cycle: string | null;
  usage_cycle_bytes: number;
  plan_id: string | null;
  plan_joined_at: Date | null;
}

const toHot = (r: Row, shared: Interned): HotSim => ({
  iccid: r.iccid,
  accountId: shared.of(r.account_id),
  timezone: shared.of(r.timezone),
  state: shared.of(r.state) as SimState,
  suspendReason: shared.of(r.suspend_reason) as SuspendReason | null,
  msisdn: r.msisdn,
  imsis: r.imsis,
  testAllowanceBytes: r.test_allowance_bytes === null ? null : Number(r.test_allowance_bytes),
  testUsedBytes: Number(r.test_used_bytes),
  usageDay: shared.of(r.usage_day),
  usageDayBytes: Number(r.usage_day_bytes),
  usageCycle: shared.of(r.usage_cycle),
  usageCycleBytes: Number(r.usage_cycle_bytes),
  planId: shared.of(r.plan_id),
  planJoinedAtMs: r.plan_joined_at === null ? null : new Date(r.plan_joined_at).getTime(),
});

const PAGE = 50_000;
const MISS_TTL_MS = 30_000;

/**
 * Every SIM by IMSI (any profile), MSISDN and ICCID, in memory, so no packet needs a query. Loaded at start;
 * a SIM that is not known yet (imported since) is read once on first sight; changes refresh single SIMs.
 */
export class SimIndex {
  private readonly byIccid = new Map<string, HotSim>();
  private readonly byImsi = new Map<string, HotSim>();
  private readonly byMsisdn = new Map<string, HotSim>();
  private readonly misses = new Map<string, number>();
  /** The values many SIMs share: account, time zone, state, suspension reason, plan, usage day and cycle. */
  private readonly shared = new Interned();

  constructor(private readonly db: Db) {}

  /** Loads every SIM, page by page. */
  async load(): Promise<number> {
    let after = '';
    for (;;) {
      const rows = await this.query(sql`s.iccid > ${after}`, PAGE);
      for (const r of rows) this.put(toHot(r, this.shared));
      if (rows.length < PAGE) break;
      after = rows.at(-1)!.iccid;
    }
    return this.byIccid.size;
  }

  get size(): number {
    return this.byIccid.size;
  }

  /** Every SIM in memory. */
  all(): IterableIterator<HotSim> {
    return this.byIccid.values();
  }

  getByIccid(iccid: string): HotSim | undefined {
    return this.byIccid.get(iccid);
  }

  /** The SIM of an IMSI, falling back to the MSISDN; reads the database only for one not seen before. */
  async resolve(imsi: string | null, msisdn: string | null): Promise<HotSim | undefined> {
    const known = (imsi ? this.byImsi.get(imsi) : undefined) ?? (msisdn ? this.byMsisdn.get(msisdn) : undefined);
    if (known) return known;
    const key = `${imsi ?? ''}/${msisdn ?? ''}`;
    const missedAt = this.misses.get(key);
    if (missedAt !== undefined && Date.now() - missedAt < MISS_TTL_MS) return undefined;
    const condition = imsi
      ? sql`s.iccid IN (SELECT iccid FROM sim_profiles WHERE imsi = ${imsi})`
      : msisdn
        ? sql`s.msisdn = ${msisdn}`
        : undefined;
    const found = condition ? (await this.query(condition, 1))[0] : undefined;
    if (!found && msisdn && imsi) return this.resolve(null, msisdn);
    if (!found) {
      if (this.misses.size > 100_000) this.misses.clear();
      this.misses.set(key, Date.now());
      return undefined;
    }
    const hot = toHot(found, this.shared);
    this.put(hot);
    return hot;
  }

  /** The SIM of an ICCID; reads the database only for one not seen before. */
  async resolveIccid(iccid: string): Promise<HotSim | undefined> {
    return this.byIccid.get(iccid) ?? (await this.refresh(iccid));
  }

  /**
   * Reads one SIM again after a change made outside the hot path (state, owner, profiles). The object in memory
   * is updated in place, so packets being counted against it keep counting into the same figures.
   */
  async refresh(iccid: string): Promise<HotSim | undefined> {
    const [row] = await this.query(sql`s.iccid = ${iccid}`, 1);
    const old = this.byIccid.get(iccid);
    if (!row) {
      if (old) this.remove(old);
      return undefined;
    }
    const fresh = toHot(row, this.shared);
    if (!old) {
      this.put(fresh);
      return fresh;
    }
    this.remove(old);
    const stateChanged = old.state !== fresh.state;
    // NOTE: usage figures in memory may be ahead of the row (a batch in flight) and win, except the test
    // counters, which a new state resets in the database.
    Object.assign(old, {
      accountId: fresh.accountId,
      timezone: fresh.timezone,
      state: fresh.state,
      suspendReason: fresh.suspendReason,
      msisdn: fresh.msisdn,
      imsis: fresh.imsis,
      testAllowanceBytes: fresh.testAllowanceBytes,
      planId: fresh.planId,
      planJoinedAtMs: fresh.planJoinedAtMs,
      testUsedBytes: stateChanged ? fresh.testUsedBytes : Math.max(fresh.testUsedBytes, old.testUsedBytes),
    });
    this.put(old);
    return old;
  }

  private put(sim: HotSim): void {
    this.byIccid.set(sim.iccid, sim);
    for (const imsi of sim.imsis) this.byImsi.set(imsi, sim);
    if (sim.msisdn) this.byMsisdn.set(sim.msisdn, sim);
  }

  private remove(sim: HotSim): void {
    this.byIccid.delete(sim.iccid);
    for (const imsi of sim.imsis) if (this.byImsi.get(imsi) === sim) this.byImsi.delete(imsi);
    if (sim.msisdn && this.byMsisdn.get(sim.msisdn) === sim) this.byMsisdn.delete(sim.msisdn);
  }

  private async query(condition: ReturnType<typeof sql>, limit: number): Promise<Row[]> {
    const { rows } = await sql<Row>`
      SELECT s.iccid, s.account_id, a.timezone, s.state, s.suspend_reason, s.msisdn,
             coalesce((SELECT array_agg(p.imsi ORDER BY p.position) FROM sim_profiles p WHERE p.iccid = s.iccid), '{}') AS imsis,
             s.test_allowance_bytes, s.test_used_bytes, s.usage_day, s.usage_day_bytes, s.usage_cycle, s.usage_cycle_bytes,
             s.plan_id,
             CASE WHEN s.activated_at IS NULL OR s.plan_id IS NULL THEN NULL
                  ELSE greatest(s.activated_at, coalesce(s.plan_joined_at, s.activated_at)) END AS plan_joined_at
      FROM sims s JOIN accounts a ON a.id = s.account_id
      WHERE ${condition}
      ORDER BY s.iccid
      LIMIT ${limit}`.execute(this.db);
    return rows;
  }
}

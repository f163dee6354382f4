/**
 * The rating function: one usage delta of one SIM, rated against its plan and its balances of the current cycle.
 * Runs per accounting packet in memory: pure, deterministic, no I/O, no Intl, a handful of small objects per call.
 *
 * Consumption order for usage in coverage: the SIM's own included data (or the pool's) → its top-ups, earliest
 * expiry first → overage at the plan's price up to its cap → blocked (counted, not charged) when the plan has no
 * overage. Test-period traffic is free up to the test allowance, wherever it is used. Usage outside the coverage
 * zones uses none of the allowances: it is rated at the plan's roaming price, or blocked.
 *
 * Charges are exact and cumulative: the overage charge of a cycle is `min(cap, round(overage bytes × price per MB))`
 * and each delta is charged the growth of that figure, so rating a delta in parts gives the same total to the micro
 * as rating it at once. The rating increment is applied the same way to each session's cumulative usage.
 */
import { mulDivHalfUp } from './money.ts';
import { MB, type RatePlan } from './rate-plan.ts';
import { ZONE_INDEX_CACHE_LIMIT, type ZoneIndex } from './zones.ts';

/** Extra data bought on top of the plan (加油包). */
export interface TopUp {
  id: string;
  remainingBytes: number;
  /** Usable before this instant (epoch milliseconds). */
  expiresAtMs: number;
}

/** One SIM's balances in the current cycle. Never changed in place: rating returns a new one. */
export interface SimBalance {
  /** Own included data of this cycle (prorated where the cycle is partial); 0 on a pooled plan. */
  includedBytes: number;
  includedRemainingBytes: number;
  /** Ordered by expiry, earliest first (see `addTopUp`); expired ones are skipped. */
  topUps: readonly TopUp[];
  /** All rated bytes of the cycle except test-period traffic: what the cut-off threshold is compared with. */
  cycleBytes: number;
  overageBytes: number;
  /** Overage charged this cycle, never above the plan's cap. */
  overageMicros: number;
  /** Bytes out of coverage per roaming price: index 0 the plan's general price, i + 1 its `zoneRates[i]`. */
  roamingBytes: readonly number[];
  roamingMicros: number;
  /** Test allowance left (over the SIM's life, not per cycle). */
  testRemainingBytes: number;
  smsCount: number;
}

/**
 * A balance as stored: fields at their opening value (zero, or no top-ups or roaming) are left out, so that a balance
 * such as a pooled SIM's, which only counts its cycle's bytes, is one field instead of ten. `balanceFromStored` reads
 * it back, and reads a balance stored whole as well.
 */
export function storedBalance(b: SimBalance): Partial<SimBalance> {
  const out: Partial<Record<keyof SimBalance, unknown>> = {};
  for (const key of Object.keys(b) as (keyof SimBalance)[]) {
    const v = b[key];
    if (Array.isArray(v) ? v.length > 0 : v !== 0) out[key] = v;
  }
  return out as Partial<SimBalance>;
}

/** A stored balance with the fields left out at their opening value. */
export function balanceFromStored(doc: Partial<SimBalance>): SimBalance {
  return {
    includedBytes: doc.includedBytes ?? 0,
    includedRemainingBytes: doc.includedRemainingBytes ?? 0,
    topUps: doc.topUps ?? NO_TOP_UPS,
    cycleBytes: doc.cycleBytes ?? 0,
    overageBytes: doc.overageBytes ?? 0,
    overageMicros: doc.overageMicros ?? 0,
    roamingBytes: doc.roamingBytes ?? [],
    roamingMicros: doc.roamingMicros ?? 0,
    testRemainingBytes: doc.testRemainingBytes ?? 0,
    smsCount: doc.smsCount ?? 0,
  };
}

/** The shared included data of a pooled plan (流量池) for one account and cycle. */
export interface PoolBalance {
  /** Sum of the members' (prorated) allowances. */
  sizeBytes: number;
  remainingBytes: number;
}

export interface UsageDelta {
  /** New bytes (uplink + downlink) since the session's last counted report. */
  bytes: number;
  /** Bytes of the same session counted before this delta (0 for a CDR or a first report). */
  sessionBytesBefore: number;
  /** Serving network. Null when the gateway sent none: rated as in coverage. */
  mccMnc: string | null;
  /** When the usage happened (epoch milliseconds); decides which top-ups are still valid. */
  atMs: number;
  /** The SIM is in its test period: usage is free up to its test allowance. */
  inTestPeriod: boolean;
}

export const PIECE_KINDS = ['test', 'included', 'pool', 'top_up', 'overage', 'roaming', 'blocked'] as const;
export type PieceKind = (typeof PIECE_KINDS)[number];

/**
 * One part of a rated delta. `ref` is the top-up id of a `top_up` piece, the roaming zone of a `roaming` piece (null
 * for the plan's general roaming price), and the reason of a `blocked` piece (`exhausted` or `out_of_coverage`).
 */
export interface RatedPiece {
  kind: PieceKind;
  bytes: number;
  amountMicros: number;
  ref: string | null;
}

/**
 * What the engine must do after the delta: nothing; suspend with reason `quota`, because the included data and
 * top-ups are used up on a plan without overage (套内用尽关停) or because the cycle's usage reached the cut-off
 * threshold (超阈值断网); or disconnect the session because the network is outside coverage and the plan blocks it.
 */
export type Enforcement = 'none' | 'quota' | 'cutoff' | 'out_of_coverage';

export interface RatingResult {
  /** The delta after the rating increment: the sum of the pieces' bytes. */
  ratedBytes: number;
  pieces: RatedPiece[];
  /** The zone the usage is attributed to (see `NetworkClass.zoneId`). */
  zoneId: string | null;
  /** Sum of the pieces' charges. */
  amountMicros: number;
  sim: SimBalance;
  /** The pool after the delta (the same object when unchanged); null on an individual plan. */
  pool: PoolBalance | null;
  enforcement: Enforcement;
  /** Notification thresholds (percent of the included data: the SIM's own, or the pool's) crossed by this delta. */
  percentsCrossed: readonly number[];
  /** The test allowance ran out within this delta (the SIM becomes active). */
  testEnded: boolean;
  /** The pool ran out within this delta (every member is out of included data). */
  poolExhausted: boolean;
}

/** `NetworkClass.coverage` of a network in the plan's coverage. */
export const COVERED = -1;
/** `NetworkClass.coverage` of a network outside coverage on a plan that blocks it. */
export const BLOCKED = -2;

/** How a plan version treats a serving network. */
export interface NetworkClass {
  /** `COVERED`, `BLOCKED`, or the index of the roaming price (in `RatingPlan.roamingPricePerMbMicros`). */
  coverage: number;
  /**
   * The zone usage there is attributed to (for bill lines per zone): the first of the plan's coverage zones covering
   * the network, else its roaming zone, else the first catalogue zone covering it; null when none does.
   */
  zoneId: string | null;
}

/** A plan version prepared for rating: answers per serving network cached. */
export interface RatingPlan {
  readonly plan: RatePlan;
  /** Null (no serving network reported) is in coverage. */
  classify(mccMnc: string | null): NetworkClass;
  readonly roamingPricePerMbMicros: readonly number[];
  readonly roamingZoneIds: readonly (string | null)[];
}

const UNREPORTED: NetworkClass = Object.freeze({ coverage: COVERED, zoneId: null });

/** Prepares a validated plan version for rating against a zone catalogue. */
export function compileRatingPlan(plan: RatePlan, zones: ZoneIndex): RatingPlan {
  const ooc = plan.outOfCoverage;
  const roamingPricePerMbMicros = ooc.kind === 'rate' ? [ooc.pricePerMbMicros, ...ooc.zoneRates.map((r) => r.pricePerMbMicros)] : [];
  const roamingZoneIds = ooc.kind === 'rate' ? [null, ...ooc.zoneRates.map((r) => r.zoneId)] : [];
  const cache = new Map<string, NetworkClass>();
  const compute = (mccMnc: string): NetworkClass => {
    const covering = zones.covering(mccMnc);
    const has = (id: string) => covering.some((z) => z.id === id);
    const home = plan.coverageZoneIds.find(has);
    if (home !== undefined) return { coverage: COVERED, zoneId: home };
    const anyZone = covering[0]?.id ?? null;
    if (ooc.kind === 'block') return { coverage: BLOCKED, zoneId: anyZone };
    const index = ooc.zoneRates.findIndex((r) => has(r.zoneId));
    return index < 0 ? { coverage: 0, zoneId: anyZone } : { coverage: index + 1, zoneId: ooc.zoneRates[index]!.zoneId };
  };
  return {
    plan,
    roamingPricePerMbMicros,
    roamingZoneIds,
    classify(mccMnc) {
      if (mccMnc === null) return UNREPORTED;
      let c = cache.get(mccMnc);
      if (c === undefined) {
        c = compute(mccMnc);
        if (cache.size < ZONE_INDEX_CACHE_LIMIT) cache.set(mccMnc, c);
      }
      return c;
    },
  };
}

const NO_TOP_UPS: readonly TopUp[] = Object.freeze([]);
const NO_PERCENTS: readonly number[] = Object.freeze([]);

/** The balance a SIM opens a cycle with. `includedBytes` defaults to the plan's (0 on a pooled plan). */
export function openSimBalance(
  plan: RatePlan,
  options: { includedBytes?: number; testRemainingBytes?: number; topUps?: readonly TopUp[] } = {},
): SimBalance {
  const included = plan.sharing === 'pooled' ? 0 : (options.includedBytes ?? plan.includedBytes);
  return {
    includedBytes: included,
    includedRemainingBytes: included,
    topUps: options.topUps ?? NO_TOP_UPS,
    cycleBytes: 0,
    overageBytes: 0,
    overageMicros: 0,
    roamingBytes: [],
    roamingMicros: 0,
    testRemainingBytes: options.testRemainingBytes ?? plan.testAllowanceBytes,
    smsCount: 0,
  };
}

/** A pool of the given size (the sum of its members' prorated allowances), nothing used. */
export const openPool = (sizeBytes: number): PoolBalance => ({ sizeBytes, remainingBytes: sizeBytes });

/** The balance with one more top-up, kept in expiry order (after those expiring at the same instant). */
export function addTopUp(balance: SimBalance, topUp: TopUp): SimBalance {
  const topUps = [...balance.topUps];
  let i = topUps.length;
  while (i > 0 && topUps[i - 1]!.expiresAtMs > topUp.expiresAtMs) i--;
  topUps.splice(i, 0, topUp);
  return { ...balance, topUps };
}

/** The pool with a member added or removed mid-cycle: its (prorated) allowance added to size and remainder. */
export function resizePool(pool: PoolBalance, deltaBytes: number): PoolBalance {
  const sizeBytes = Math.max(0, pool.sizeBytes + deltaBytes);
  return { sizeBytes, remainingBytes: Math.min(sizeBytes, Math.max(0, pool.remainingBytes + deltaBytes)) };
}

/** `x` rounded up to a multiple of `increment`. */
function ceilTo(x: number, increment: number): number {
  if (increment === 1) return x;
  const r = x % increment;
  return r === 0 ? x : x - r + increment;
}

/** Bytes of the top-ups still valid at `atMs`. */
function liveTopUpBytes(topUps: readonly TopUp[], atMs: number): number {
  let sum = 0;
  for (const t of topUps) if (t.expiresAtMs > atMs) sum += t.remainingBytes;
  return sum;
}

/** Bytes at which `percent` of `size` is reached: ceil(size × percent / 100), exact for any safe size. */
function thresholdBytes(size: number, percent: number): number {
  const q = Math.floor(size / 100);
  return q * percent + Math.ceil(((size - q * 100) * percent) / 100);
}

function percentsCrossed(percents: readonly number[], size: number, usedBefore: number, usedAfter: number): readonly number[] {
  if (size <= 0 || usedAfter <= usedBefore) return NO_PERCENTS;
  let out: number[] | null = null;
  for (const p of percents) {
    const t = thresholdBytes(size, p);
    if (usedBefore < t && t <= usedAfter) (out ??= []).push(p);
  }
  return out ?? NO_PERCENTS;
}

function enforcementFor(plan: RatePlan, sim: SimBalance, pool: PoolBalance | null, atMs: number, inTestPeriod: boolean, coverage: number): Enforcement {
  if (inTestPeriod && sim.testRemainingBytes > 0) return 'none';
  if (plan.cutoffBytes !== null && sim.cycleBytes >= plan.cutoffBytes) return 'cutoff';
  if (plan.overage === null) {
    const included = plan.sharing === 'pooled' ? (pool?.remainingBytes ?? 0) : sim.includedRemainingBytes;
    if (included === 0 && liveTopUpBytes(sim.topUps, atMs) === 0) return 'quota';
  }
  return coverage === BLOCKED ? 'out_of_coverage' : 'none';
}

/**
 * What the engine must do for a SIM in this state on this network (see `Enforcement`): also after a top-up or a
 * new cycle, to tell whether a SIM suspended for `quota` may resume (it may when this is not `quota` or `cutoff`).
 */
export function enforcementOf(rp: RatingPlan, sim: SimBalance, pool: PoolBalance | null, usage: Pick<UsageDelta, 'mccMnc' | 'atMs' | 'inTestPeriod'>): Enforcement {
  return enforcementFor(rp.plan, sim, pool, usage.atMs, usage.inTestPeriod, rp.classify(usage.mccMnc).coverage);
}

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer (got ${value})`);
}

/**
 * Rates one usage delta. `pool` is the SIM's pool on a pooled plan (required then) and ignored otherwise. The SIM
 * balance must belong to the cycle the usage falls in; the caller opens a new one at each cycle start.
 */
export function rateUsage(rp: RatingPlan, sim: SimBalance, pool: PoolBalance | null, usage: UsageDelta): RatingResult {
  checkCount(usage.bytes, 'usage bytes');
  checkCount(usage.sessionBytesBefore, 'session bytes before');
  const plan = rp.plan;
  const pooled = plan.sharing === 'pooled';
  if (pooled && pool === null) throw new RangeError(`plan ${plan.id} is pooled: rating needs the pool balance`);

  const inc = plan.ratingIncrementBytes;
  const ratedBytes = ceilTo(usage.sessionBytesBefore + usage.bytes, inc) - ceilTo(usage.sessionBytesBefore, inc);
  const pieces: RatedPiece[] = [];
  let left = ratedBytes;
  let amountMicros = 0;

  // Test period: free, in or out of coverage.
  let testRemaining = sim.testRemainingBytes;
  let testEnded = false;
  if (usage.inTestPeriod && testRemaining > 0 && left > 0) {
    const take = left < testRemaining ? left : testRemaining;
    pieces.push({ kind: 'test', bytes: take, amountMicros: 0, ref: null });
    testRemaining -= take;
    left -= take;
    testEnded = testRemaining === 0;
  }
  const billable = left;

  let includedRemaining = sim.includedRemainingBytes;
  let poolAfter = pool;
  let topUps = sim.topUps;
  let overageBytes = sim.overageBytes;
  let overageMicros = sim.overageMicros;
  let roamingBytes = sim.roamingBytes;
  let roamingMicros = sim.roamingMicros;

  const network = rp.classify(usage.mccMnc);
  const coverage = network.coverage;
  if (left > 0 && coverage === BLOCKED) {
    pieces.push({ kind: 'blocked', bytes: left, amountMicros: 0, ref: 'out_of_coverage' });
    left = 0;
  } else if (left > 0 && coverage >= 0) {
    const price = rp.roamingPricePerMbMicros[coverage]!;
    const before = roamingBytes[coverage] ?? 0;
    const after = before + left;
    const charge = mulDivHalfUp(after, price, MB) - mulDivHalfUp(before, price, MB);
    const next = roamingBytes.slice();
    for (let i = next.length; i < coverage; i++) next.push(0);
    next[coverage] = after;
    roamingBytes = next;
    roamingMicros += charge;
    amountMicros += charge;
    pieces.push({ kind: 'roaming', bytes: left, amountMicros: charge, ref: rp.roamingZoneIds[coverage] ?? null });
    left = 0;
  }

  if (left > 0) {
    // Included data: the SIM's own, or the pool's.
    if (pooled) {
      const remaining = poolAfter!.remainingBytes;
      if (remaining > 0) {
        const take = left < remaining ? left : remaining;
        poolAfter = { sizeBytes: poolAfter!.sizeBytes, remainingBytes: remaining - take };
        pieces.push({ kind: 'pool', bytes: take, amountMicros: 0, ref: null });
        left -= take;
      }
    } else if (includedRemaining > 0) {
      const take = left < includedRemaining ? left : includedRemaining;
      includedRemaining -= take;
      pieces.push({ kind: 'included', bytes: take, amountMicros: 0, ref: null });
      left -= take;
    }
    // Top-ups, earliest expiry first.
    if (left > 0 && topUps.length > 0) {
      let copy: TopUp[] | null = null;
      for (let i = 0; i < topUps.length && left > 0; i++) {
        const t = topUps[i]!;
        if (t.remainingBytes === 0 || t.expiresAtMs <= usage.atMs) continue;
        const take = left < t.remainingBytes ? left : t.remainingBytes;
        copy ??= topUps.slice();
        copy[i] = { id: t.id, remainingBytes: t.remainingBytes - take, expiresAtMs: t.expiresAtMs };
        pieces.push({ kind: 'top_up', bytes: take, amountMicros: 0, ref: t.id });
        left -= take;
      }
      if (copy) topUps = copy;
    }
    // Overage, up to the cap; or blocked.
    if (left > 0) {
      const overage = plan.overage;
      if (overage === null) {
        pieces.push({ kind: 'blocked', bytes: left, amountMicros: 0, ref: 'exhausted' });
      } else {
        const after = overageBytes + left;
        let charge = mulDivHalfUp(after, overage.pricePerMbMicros, MB) - mulDivHalfUp(overageBytes, overage.pricePerMbMicros, MB);
        if (overage.capMicros !== null && charge > overage.capMicros - overageMicros) charge = Math.max(0, overage.capMicros - overageMicros);
        overageBytes = after;
        overageMicros += charge;
        amountMicros += charge;
        pieces.push({ kind: 'overage', bytes: left, amountMicros: charge, ref: null });
      }
    }
  }

  const next: SimBalance = {
    includedBytes: sim.includedBytes,
    includedRemainingBytes: includedRemaining,
    topUps,
    cycleBytes: sim.cycleBytes + billable,
    overageBytes,
    overageMicros,
    roamingBytes,
    roamingMicros,
    testRemainingBytes: testRemaining,
    smsCount: sim.smsCount,
  };

  let crossed: readonly number[];
  let poolExhausted = false;
  if (pooled) {
    const size = poolAfter!.sizeBytes;
    crossed = percentsCrossed(plan.notifyPercents, size, size - pool!.remainingBytes, size - poolAfter!.remainingBytes);
    poolExhausted = pool!.remainingBytes > 0 && poolAfter!.remainingBytes === 0;
  } else {
    const size = sim.includedBytes;
    crossed = percentsCrossed(plan.notifyPercents, size, size - sim.includedRemainingBytes, size - includedRemaining);
  }

  return {
    ratedBytes,
    pieces,
    zoneId: network.zoneId,
    amountMicros,
    sim: next,
    pool: pooled ? poolAfter : null,
    enforcement: enforcementFor(plan, next, poolAfter, usage.atMs, usage.inTestPeriod, coverage),
    percentsCrossed: crossed,
    testEnded,
    poolExhausted,
  };
}

export interface SmsRating {
  /** Messages within the included ones, and beyond them. */
  includedCount: number;
  chargedCount: number;
  amountMicros: number;
  sim: SimBalance;
}

/** Rates `count` SMS: the plan's included messages of the cycle first, then each at the plan's SMS price. */
export function rateSms(plan: RatePlan, sim: SimBalance, count: number): SmsRating {
  checkCount(count, 'SMS count');
  const includedLeft = Math.max(0, plan.includedSms - sim.smsCount);
  const includedCount = Math.min(count, includedLeft);
  const chargedCount = count - includedCount;
  return { includedCount, chargedCount, amountMicros: chargedCount * plan.smsPriceMicros, sim: { ...sim, smsCount: sim.smsCount + count } };
}

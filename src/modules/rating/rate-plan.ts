/**
 * Rate plans (套餐): what a SIM is sold under, validated, with versions in force from a date, the default cut-off
 * thresholds (超阈值断网) and the plans of the sample price list. Pure, no I/O.
 */
import { invalid } from '../../shared/errors.ts';
import { CURRENCY_DIGITS, DEFAULT_CURRENCY } from './money.ts';
import type { Zone, ZonePrices } from './zones.ts';

export const KB = 1024;
export const MB = 1024 * KB;
export const GB = 1024 * MB;

export const SHARINGS = ['individual', 'pooled'] as const;
/** `individual`: each SIM has its own allowance; `pooled`: the SIMs of the account on the plan share one (流量池). */
export type Sharing = (typeof SHARINGS)[number];

/** Usage beyond the included data (套外). */
export interface Overage {
  pricePerMbMicros: number;
  /** Most overage charged per SIM and cycle (封顶); null for no cap. Usage beyond it is still counted, at no charge. */
  capMicros: number | null;
}

/** A roaming price for usage in one zone outside the plan's coverage. */
export interface RoamingRate {
  zoneId: string;
  pricePerMbMicros: number;
}

/**
 * Usage on a network outside the coverage zones: blocked (counted, not charged, the session disconnected), or rated at
 * the price of the first `zoneRates` entry whose zone covers the network, else at `pricePerMbMicros`.
 */
export type OutOfCoverage = { kind: 'block' } | { kind: 'rate'; pricePerMbMicros: number; zoneRates: readonly RoamingRate[] };

export interface RatePlan {
  id: string;
  /** 1 for the first version; each change adds one (see `nextPlanVersion`). */
  version: number;
  /** The version is in force from this instant until the next version's. */
  effectiveFrom: Date;
  name: string;
  currency: string;
  monthlyFeeMicros: number;
  /** Data included per cycle: the SIM's own, or its share of the pool for a pooled plan. */
  includedBytes: number;
  includedSms: number;
  /** Price of an SMS beyond the included ones. */
  smsPriceMicros: number;
  /** Zones where the included data and the overage price apply. */
  coverageZoneIds: readonly string[];
  /** Null: no overage, the SIM is suspended when its included data and top-ups are used up (套内用尽关停). */
  overage: Overage | null;
  /** Cycle usage at which the SIM is cut off whatever its balance (超阈值断网); null for none. */
  cutoffBytes: number | null;
  sharing: Sharing;
  /** Prepaid term in months (the first month runs from activation to its end); null for a monthly plan. */
  termMonths: number | null;
  /** Free data of the test period (测试期). */
  testAllowanceBytes: number;
  /** Each session's usage is rounded up to a multiple of this (1 for none, 1024 for 1 KB). */
  ratingIncrementBytes: number;
  outOfCoverage: OutOfCoverage;
  /** Percentages of the included data whose crossing is notified, ascending. */
  notifyPercents: readonly number[];
  /**
   * The plan of an account above this plan's owner that this plan is sold on (a reseller's retail plan on the
   * operator's wholesale plan): its terms price the SIMs on this plan on the owner's wholesale bill. Null for none.
   */
  wholesalePlanId: string | null;
}

/** What a plan is created from: the fields of `RatePlan`, some with defaults. */
export type RatePlanInput = Omit<
  RatePlan,
  'version' | 'currency' | 'includedSms' | 'smsPriceMicros' | 'cutoffBytes' | 'sharing' | 'termMonths' | 'testAllowanceBytes' | 'ratingIncrementBytes' | 'outOfCoverage' | 'notifyPercents' | 'wholesalePlanId'
> &
  Partial<Pick<RatePlan, 'version' | 'currency' | 'includedSms' | 'smsPriceMicros' | 'sharing' | 'termMonths' | 'testAllowanceBytes' | 'ratingIncrementBytes' | 'outOfCoverage' | 'notifyPercents' | 'wholesalePlanId'>> & {
    /** Omitted: `defaultCutoffBytes(includedBytes)`; null: no cut-off. */
    cutoffBytes?: number | null;
  };

export const DEFAULT_RATING_INCREMENT_BYTES = KB;
export const DEFAULT_NOTIFY_PERCENTS: readonly number[] = Object.freeze([70, 90, 100]);
export const MAX_TERM_MONTHS = 120;

/**
 * The cut-off threshold of the Fanyi price list for a plan with this much included data: 30-300 MB plans are cut off
 * at 3 GB a month, 500 MB at 4 GB, 1-2 GB at 5 GB, 4 GB at 8 GB. A size between two rows takes the next row up, a
 * size below 30 MB the first; above 4 GB the list has no threshold (null).
 */
export function defaultCutoffBytes(includedBytes: number): number | null {
  if (includedBytes <= 300 * MB) return 3 * GB;
  if (includedBytes <= 500 * MB) return 4 * GB;
  if (includedBytes <= 2 * GB) return 5 * GB;
  if (includedBytes <= 4 * GB) return 8 * GB;
  return null;
}

const PLAN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function amountProblem(value: number, what: string): string | null {
  return Number.isSafeInteger(value) && value >= 0 ? null : `${what} must be a whole non-negative number (got ${value})`;
}

/** What is wrong with a plan; empty when it is valid. With `zones`, the zones it names must exist. */
export function ratePlanProblems(plan: RatePlan, zones?: readonly Zone[]): string[] {
  const problems: string[] = [];
  const check = (p: string | null) => p && problems.push(p);
  if (!PLAN_ID.test(plan.id)) problems.push(`plan id ${JSON.stringify(plan.id)} must be 1-64 letters, digits, '_', '.' or '-'`);
  if (!Number.isSafeInteger(plan.version) || plan.version < 1) problems.push(`version must be a whole number from 1 (got ${plan.version})`);
  if (!(plan.effectiveFrom instanceof Date) || Number.isNaN(plan.effectiveFrom.getTime())) problems.push('effectiveFrom must be a valid time');
  if (!plan.name.trim()) problems.push('name must not be empty');
  if (CURRENCY_DIGITS[plan.currency] === undefined) problems.push(`currency ${plan.currency} is not supported; supported: ${Object.keys(CURRENCY_DIGITS).join(', ')}`);
  check(amountProblem(plan.monthlyFeeMicros, 'monthlyFeeMicros'));
  check(amountProblem(plan.includedBytes, 'includedBytes'));
  check(amountProblem(plan.includedSms, 'includedSms'));
  check(amountProblem(plan.smsPriceMicros, 'smsPriceMicros'));
  check(amountProblem(plan.testAllowanceBytes, 'testAllowanceBytes'));
  if (!SHARINGS.includes(plan.sharing)) problems.push(`sharing must be one of ${SHARINGS.join(', ')} (got ${String(plan.sharing)})`);

  const known = zones ? new Set(zones.map((z) => z.id)) : null;
  const unknownZone = (id: string) => known !== null && !known.has(id);
  if (plan.coverageZoneIds.length === 0) problems.push('coverageZoneIds must name at least one zone');
  if (new Set(plan.coverageZoneIds).size !== plan.coverageZoneIds.length) problems.push('coverageZoneIds lists a zone twice');
  for (const id of plan.coverageZoneIds) if (unknownZone(id)) problems.push(`coverage zone ${id} does not exist`);

  if (plan.overage) {
    check(amountProblem(plan.overage.pricePerMbMicros, 'overage.pricePerMbMicros'));
    if (plan.overage.capMicros !== null) {
      check(amountProblem(plan.overage.capMicros, 'overage.capMicros'));
      if (plan.overage.capMicros === 0) problems.push('overage.capMicros of 0 would make overage free: set the overage price to 0 instead, or null for no cap');
    }
  }
  if (plan.cutoffBytes !== null) {
    check(amountProblem(plan.cutoffBytes, 'cutoffBytes'));
    if (plan.cutoffBytes <= plan.includedBytes) {
      problems.push(`cutoffBytes (${plan.cutoffBytes}) must be above includedBytes (${plan.includedBytes}), or the included data could not be used`);
    }
  }
  if (plan.termMonths !== null && (!Number.isSafeInteger(plan.termMonths) || plan.termMonths < 1 || plan.termMonths > MAX_TERM_MONTHS)) {
    problems.push(`termMonths must be a whole number from 1 to ${MAX_TERM_MONTHS}, or null for a monthly plan (got ${plan.termMonths})`);
  }
  if (!Number.isSafeInteger(plan.ratingIncrementBytes) || plan.ratingIncrementBytes < 1 || plan.ratingIncrementBytes > MB) {
    problems.push(`ratingIncrementBytes must be a whole number from 1 to ${MB} (got ${plan.ratingIncrementBytes})`);
  }
  if (plan.outOfCoverage.kind === 'rate') {
    check(amountProblem(plan.outOfCoverage.pricePerMbMicros, 'outOfCoverage.pricePerMbMicros'));
    const seen = new Set<string>();
    for (const r of plan.outOfCoverage.zoneRates) {
      check(amountProblem(r.pricePerMbMicros, `roaming price of zone ${r.zoneId}`));
      if (unknownZone(r.zoneId)) problems.push(`roaming zone ${r.zoneId} does not exist`);
      if (plan.coverageZoneIds.includes(r.zoneId)) problems.push(`roaming zone ${r.zoneId} is a coverage zone, so its roaming price would never apply`);
      if (seen.has(r.zoneId)) problems.push(`roaming zone ${r.zoneId} is listed twice`);
      seen.add(r.zoneId);
    }
  }
  if (plan.wholesalePlanId !== null && (!PLAN_ID.test(plan.wholesalePlanId) || plan.wholesalePlanId === plan.id)) {
    problems.push(`wholesalePlanId ${JSON.stringify(plan.wholesalePlanId)} must name another plan (1-64 letters, digits, '_', '.' or '-')`);
  }
  const p = plan.notifyPercents;
  if (p.length > 10 || p.some((x, i) => !Number.isInteger(x) || x < 1 || x > 100 || (i > 0 && x <= p[i - 1]!))) {
    problems.push(`notifyPercents must be at most 10 ascending whole percentages from 1 to 100 (got ${p.join(', ')})`);
  }
  return problems;
}

/** A validated plan from its input, with the defaults filled in. Throws `invalid_rate_plan` naming every problem. */
export function createRatePlan(input: RatePlanInput, zones?: readonly Zone[]): RatePlan {
  const plan: RatePlan = {
    id: input.id,
    version: input.version ?? 1,
    effectiveFrom: input.effectiveFrom,
    name: input.name,
    currency: input.currency ?? DEFAULT_CURRENCY,
    monthlyFeeMicros: input.monthlyFeeMicros,
    includedBytes: input.includedBytes,
    includedSms: input.includedSms ?? 0,
    smsPriceMicros: input.smsPriceMicros ?? 0,
    coverageZoneIds: [...input.coverageZoneIds],
    overage: input.overage ? { ...input.overage } : null,
    cutoffBytes: input.cutoffBytes === undefined ? defaultCutoffBytes(input.includedBytes) : input.cutoffBytes,
    sharing: input.sharing ?? 'individual',
    termMonths: input.termMonths ?? null,
    testAllowanceBytes: input.testAllowanceBytes ?? 0,
    ratingIncrementBytes: input.ratingIncrementBytes ?? DEFAULT_RATING_INCREMENT_BYTES,
    outOfCoverage: input.outOfCoverage ?? { kind: 'block' },
    notifyPercents: [...(input.notifyPercents ?? DEFAULT_NOTIFY_PERCENTS)],
    wholesalePlanId: input.wholesalePlanId ?? null,
  };
  const problems = ratePlanProblems(plan, zones);
  if (problems.length) throw invalid('invalid_rate_plan', `rate plan ${input.id}: ${problems.join('; ')}`, { problems });
  return plan;
}

// --- versions ----------------------------------------------------------------------------------------------------

/** The version of a plan in force at an instant: the one with the latest `effectiveFrom` not after it. */
export function planVersionAt(versions: readonly RatePlan[], at: Date): RatePlan | undefined {
  let best: RatePlan | undefined;
  const t = at.getTime();
  for (const v of versions) {
    const from = v.effectiveFrom.getTime();
    if (from <= t && (best === undefined || from > best.effectiveFrom.getTime())) best = v;
  }
  return best;
}

/** Like `planVersionAt`, but throws `plan_not_in_force` when no version is in force yet. */
export function getPlanVersionAt(versions: readonly RatePlan[], at: Date): RatePlan {
  const v = planVersionAt(versions, at);
  if (!v) throw invalid('plan_not_in_force', `no version of plan ${versions[0]?.id ?? '(none)'} is in force at ${at.toISOString()}`);
  return v;
}

/** Fields a new version may not change: a plan with another sharing or currency is another plan. */
export const FIXED_FIELDS = ['id', 'sharing', 'currency'] as const;

/**
 * A change to a plan: a new version, numbered after the latest, in force from `effectiveFrom`. The past is never
 * rewritten: `effectiveFrom` must not be before `now` and must be after the latest version's. Usage is always rated
 * by the version in force at its time, so records rated before the change keep their prices.
 */
export function nextPlanVersion(
  versions: readonly RatePlan[],
  change: Partial<Omit<RatePlanInput, 'version' | 'effectiveFrom'>>,
  effectiveFrom: Date,
  now: Date,
  zones?: readonly Zone[],
): RatePlan {
  const latest = versions.reduce<RatePlan | undefined>((a, v) => (a === undefined || v.version > a.version ? v : a), undefined);
  if (!latest) throw invalid('plan_has_no_version', 'a plan needs a first version before it can be changed');
  const problems: string[] = [];
  for (const f of FIXED_FIELDS) {
    if (change[f] !== undefined && change[f] !== latest[f]) problems.push(`${f} cannot change in a new version (create another plan instead)`);
  }
  if (effectiveFrom.getTime() < now.getTime()) problems.push(`effectiveFrom ${effectiveFrom.toISOString()} is in the past; a change applies from now or later`);
  if (effectiveFrom.getTime() <= latest.effectiveFrom.getTime()) {
    problems.push(`effectiveFrom ${effectiveFrom.toISOString()} must be after that of version ${latest.version} (${latest.effectiveFrom.toISOString()})`);
  }
  if (problems.length) throw invalid('invalid_plan_change', `plan ${latest.id}: ${problems.join('; ')}`, { problems });
  // A new included size without an explicit threshold takes the default threshold of the new size.
  const cutoffBytes = change.cutoffBytes !== undefined ? change.cutoffBytes : change.includedBytes !== undefined ? undefined : latest.cutoffBytes;
  return createRatePlan({ ...latest, ...change, cutoffBytes, version: latest.version + 1, effectiveFrom }, zones);
}

// --- sample price list -------------------------------------------------------------------------------------------

/**
 * The plans of a zone price list (zone_prices_<currency>.csv): one per zone and tier, id `<zone>-<tier>` (`Z1-100MB`),
 * covering that zone, SMS at the zone's price, no overage (suspended when used up), the default cut-off threshold,
 * usage rounded up to 1 KB per session, blocked outside the zone.
 */
export function catalogPlanInputs(prices: readonly ZonePrices[], zones: readonly Zone[], effectiveFrom: Date): RatePlanInput[] {
  const names = new Map(zones.map((z) => [z.id, z.name]));
  return prices.flatMap((p) =>
    p.tiers.map(
      (t): RatePlanInput => ({
        id: `${p.zoneId}-${t.label}`,
        effectiveFrom,
        name: `${names.get(p.zoneId) ?? p.zoneId} ${t.label}`,
        currency: p.currency,
        monthlyFeeMicros: t.monthlyFeeMicros,
        includedBytes: t.includedBytes,
        smsPriceMicros: p.smsPriceMicros,
        coverageZoneIds: [p.zoneId],
        overage: null,
      }),
    ),
  );
}

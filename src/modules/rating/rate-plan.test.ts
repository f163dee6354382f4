import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  catalogPlanInputs,
  createRatePlan,
  defaultCutoffBytes,
  GB,
  getPlanVersionAt,
  KB,
  MB,
  nextPlanVersion,
  planVersionAt,
  type RatePlanInput,
} from './rate-plan.ts';
import { parseZonePricesCsv, parseZonesCsv, type Zone } from './zones.ts';
import { errorOf } from '../../../test/support/errors.ts';

const zones: Zone[] = [
  { id: 'Z1', name: 'Zone 1', countries: ['DE', 'FR'], networks: [] },
  { id: 'Z3', name: 'Zone 3', countries: ['US'], networks: [] },
];

const base: RatePlanInput = {
  id: 'eu-100',
  effectiveFrom: new Date('2026-01-01T00:00:00+08:00'),
  name: 'Europe 100 MB',
  monthlyFeeMicros: 19_150_000,
  includedBytes: 100 * MB,
  coverageZoneIds: ['Z1'],
  overage: { pricePerMbMicros: 500_000, capMicros: 50_000_000 },
};

describe('the cut-off thresholds of the Fanyi price list', () => {
  it('cuts 30-300 MB plans at 3 GB, 500 MB at 4 GB, 1-2 GB at 5 GB and 4 GB at 8 GB', () => {
    for (const mb of [30, 100, 200, 300]) expect(defaultCutoffBytes(mb * MB), `${mb} MB`).toBe(3 * GB);
    expect(defaultCutoffBytes(500 * MB)).toBe(4 * GB);
    expect(defaultCutoffBytes(1 * GB)).toBe(5 * GB);
    expect(defaultCutoffBytes(2 * GB)).toBe(5 * GB);
    expect(defaultCutoffBytes(4 * GB)).toBe(8 * GB);
  });

  it('takes the next row up between rows, the first below 30 MB, and none above 4 GB', () => {
    expect(defaultCutoffBytes(0)).toBe(3 * GB);
    expect(defaultCutoffBytes(10 * MB)).toBe(3 * GB);
    expect(defaultCutoffBytes(300 * MB + 1)).toBe(4 * GB);
    expect(defaultCutoffBytes(800 * MB)).toBe(5 * GB);
    expect(defaultCutoffBytes(3 * GB)).toBe(8 * GB);
    expect(defaultCutoffBytes(4 * GB + 1)).toBeNull();
  });
});

describe('creating a plan', () => {
  it('fills in the defaults', () => {
    expect(createRatePlan(base, zones)).toEqual({
      ...base,
      version: 1,
      currency: 'CNY',
      includedSms: 0,
      smsPriceMicros: 0,
      cutoffBytes: 3 * GB,
      sharing: 'individual',
      termMonths: null,
      testAllowanceBytes: 0,
      ratingIncrementBytes: KB,
      outOfCoverage: { kind: 'block' },
      notifyPercents: [70, 90, 100],
      wholesalePlanId: null,
    });
  });

  it('keeps an explicit "no cut-off" and the other settings', () => {
    const plan = createRatePlan(
      {
        ...base,
        cutoffBytes: null,
        sharing: 'pooled',
        termMonths: 12,
        testAllowanceBytes: 30 * MB,
        ratingIncrementBytes: 1,
        outOfCoverage: { kind: 'rate', pricePerMbMicros: 1_000_000, zoneRates: [{ zoneId: 'Z3', pricePerMbMicros: 2_000_000 }] },
        notifyPercents: [80],
      },
      zones,
    );
    expect(plan).toMatchObject({ cutoffBytes: null, sharing: 'pooled', termMonths: 12, testAllowanceBytes: 30 * MB, notifyPercents: [80] });
  });

  it('names every problem at once', () => {
    const e = errorOf(() =>
      createRatePlan(
        {
          ...base,
          id: 'bad id',
          name: '',
          currency: 'XXX',
          monthlyFeeMicros: -1,
          includedBytes: 1.5,
          coverageZoneIds: ['Z1', 'Z9', 'Z1'],
          overage: { pricePerMbMicros: 100, capMicros: 0 },
          cutoffBytes: 1,
          termMonths: 0,
          ratingIncrementBytes: 0,
          outOfCoverage: { kind: 'rate', pricePerMbMicros: 1, zoneRates: [{ zoneId: 'Z1', pricePerMbMicros: 2 }] },
          notifyPercents: [90, 70],
        },
        zones,
      ),
    );
    expect(e.code).toBe('invalid_rate_plan');
    expect(e.details?.problems).toEqual([
      `plan id "bad id" must be 1-64 letters, digits, '_', '.' or '-'`,
      'name must not be empty',
      'currency XXX is not supported; supported: CNY, HKD, MOP, TWD, USD, EUR, GBP, SGD, JPY, KRW',
      'monthlyFeeMicros must be a whole non-negative number (got -1)',
      'includedBytes must be a whole non-negative number (got 1.5)',
      'coverageZoneIds lists a zone twice',
      'coverage zone Z9 does not exist',
      'overage.capMicros of 0 would make overage free: set the overage price to 0 instead, or null for no cap',
      'cutoffBytes (1) must be above includedBytes (1.5), or the included data could not be used',
      'termMonths must be a whole number from 1 to 120, or null for a monthly plan (got 0)',
      'ratingIncrementBytes must be a whole number from 1 to 1048576 (got 0)',
      'roaming zone Z1 is a coverage zone, so its roaming price would never apply',
      'notifyPercents must be at most 10 ascending whole percentages from 1 to 100 (got 90, 70)',
    ]);
    expect(e.message).toMatch(/^rate plan bad id: plan id/);
  });

  it('needs a coverage zone, and checks zones only when it knows them', () => {
    expect(errorOf(() => createRatePlan({ ...base, coverageZoneIds: [] })).details?.problems).toEqual(['coverageZoneIds must name at least one zone']);
    expect(createRatePlan({ ...base, coverageZoneIds: ['anything'] }).coverageZoneIds).toEqual(['anything']);
  });
});

describe('plan versions', () => {
  const v1 = createRatePlan(base, zones);
  const now = new Date('2026-03-10T00:00:00Z');
  const from = new Date('2026-03-31T16:00:00Z'); // 1 April in Shanghai
  const v2 = nextPlanVersion([v1], { monthlyFeeMicros: 21_000_000, includedBytes: 500 * MB }, from, now, zones);

  it('creates a new version from a date, keeping what did not change', () => {
    expect(v2).toMatchObject({ id: 'eu-100', version: 2, effectiveFrom: from, monthlyFeeMicros: 21_000_000, includedBytes: 500 * MB, overage: base.overage });
    // The cut-off follows the new size unless given.
    expect(v2.cutoffBytes).toBe(4 * GB);
    expect(nextPlanVersion([v1], { name: 'Renamed' }, from, now).cutoffBytes).toBe(3 * GB);
    expect(nextPlanVersion([v1], { includedBytes: 500 * MB, cutoffBytes: null }, from, now).cutoffBytes).toBeNull();
  });

  it('picks the version in force at an instant', () => {
    expect(planVersionAt([v2, v1], new Date('2025-12-31T00:00:00Z'))).toBeUndefined();
    expect(planVersionAt([v2, v1], new Date('2026-03-31T15:59:59.999Z'))).toBe(v1);
    expect(planVersionAt([v2, v1], from)).toBe(v2);
    expect(planVersionAt([v1, v2], new Date('2030-01-01T00:00:00Z'))).toBe(v2);
    expect(errorOf(() => getPlanVersionAt([v1], new Date('2020-01-01T00:00:00Z'))).code).toBe('plan_not_in_force');
  });

  it('never rewrites the past, nor the sharing or currency', () => {
    const e = errorOf(() => nextPlanVersion([v1, v2], { sharing: 'pooled', currency: 'USD' }, new Date('2026-02-01T00:00:00Z'), now));
    expect(e.code).toBe('invalid_plan_change');
    expect(e.details?.problems).toEqual([
      'sharing cannot change in a new version (create another plan instead)',
      'currency cannot change in a new version (create another plan instead)',
      'effectiveFrom 2026-02-01T00:00:00.000Z is in the past; a change applies from now or later',
      'effectiveFrom 2026-02-01T00:00:00.000Z must be after that of version 2 (2026-03-31T16:00:00.000Z)',
    ]);
    expect(errorOf(() => nextPlanVersion([], {}, from, now)).code).toBe('plan_has_no_version');
    expect(errorOf(() => nextPlanVersion([v1], { includedBytes: -5 }, from, now)).code).toBe('invalid_rate_plan');
  });
});

describe('the plans of the sample price list', () => {
  const sample = (name: string) => readFileSync(new URL(`./sample/${name}`, import.meta.url), 'utf8');
  const catalogZones = parseZonesCsv(sample('zones.csv'));
  const prices = parseZonePricesCsv(sample('zone_prices_cny.csv'), { zones: catalogZones });

  it('are 70 valid plans, one per zone and tier', () => {
    const inputs = catalogPlanInputs(prices, catalogZones, new Date('2026-01-01T00:00:00Z'));
    const plans = inputs.map((i) => createRatePlan(i, catalogZones));
    expect(plans).toHaveLength(70);
    const z1 = plans.find((p) => p.id === 'Z1-100MB')!;
    expect(z1).toMatchObject({
      name: 'Zone 1 100MB',
      monthlyFeeMicros: 19_150_000,
      includedBytes: 100 * MB,
      smsPriceMicros: 1_200_000,
      coverageZoneIds: ['Z1'],
      overage: null,
      cutoffBytes: 3 * GB,
      outOfCoverage: { kind: 'block' },
    });
    expect(plans.find((p) => p.id === 'Z7-1GB')).toMatchObject({ monthlyFeeMicros: 474_010_000, cutoffBytes: 5 * GB });
  });
});

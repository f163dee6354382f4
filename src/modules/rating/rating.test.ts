import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulDivHalfUp } from './money.ts';
import { createRatePlan, GB, KB, MB, type RatePlan, type RatePlanInput } from './rate-plan.ts';
import {
  addTopUp,
  balanceFromStored,
  compileRatingPlan,
  openPool,
  openSimBalance,
  type PoolBalance,
  type RatedPiece,
  rateSms,
  rateUsage,
  type RatingPlan,
  type RatingResult,
  resizePool,
  type SimBalance,
  storedBalance,
  type TopUp,
  type UsageDelta,
} from './rating.ts';
import { createZoneIndex, type Zone } from './zones.ts';

const zones: Zone[] = [
  { id: 'EU', name: 'Europe', countries: ['DE', 'FR'], networks: [] },
  { id: 'US', name: 'United States', countries: ['US'], networks: [] },
  { id: 'JP', name: 'Japan', countries: ['JP'], networks: [] },
];
const index = createZoneIndex(zones);
const DE = '26201';
const FR = '20801';
const US = '310410';
const JP = '44010';
const CN = '46000';

const T0 = Date.parse('2026-05-01T00:00:00+08:00');
const DAY = 86_400_000;

const plan = (over: Partial<RatePlanInput> = {}): RatingPlan =>
  compileRatingPlan(
    createRatePlan(
      {
        id: 'eu-100',
        effectiveFrom: new Date(T0 - 365 * DAY),
        name: 'Europe 100 MB',
        monthlyFeeMicros: 19_150_000,
        includedBytes: 100 * MB,
        coverageZoneIds: ['EU'],
        overage: { pricePerMbMicros: 500_000, capMicros: 50_000_000 },
        ratingIncrementBytes: 1,
        ...over,
      },
      zones,
    ),
    index,
  );

const usage = (bytes: number, over: Partial<UsageDelta> = {}): UsageDelta => ({
  bytes,
  sessionBytesBefore: 0,
  mccMnc: DE,
  atMs: T0 + DAY,
  inTestPeriod: false,
  ...over,
});

const kinds = (r: RatingResult) => r.pieces.map((p) => [p.kind, p.bytes, p.amountMicros, p.ref]);

describe('rating in plan, top-ups, overage', () => {
  const rp = plan();

  it('takes usage from the included data at no charge', () => {
    const r = rateUsage(rp, openSimBalance(rp.plan), null, usage(10 * MB));
    expect(kinds(r)).toEqual([['included', 10 * MB, 0, null]]);
    expect(r).toMatchObject({ ratedBytes: 10 * MB, zoneId: 'EU', amountMicros: 0, enforcement: 'none', pool: null, percentsCrossed: [] });
    expect(r.sim).toMatchObject({ includedRemainingBytes: 90 * MB, cycleBytes: 10 * MB });
  });

  it('then the top-ups, earliest expiry first, skipping expired ones, then overage', () => {
    let sim = openSimBalance(rp.plan, { includedBytes: 1 * MB });
    sim = addTopUp(sim, { id: 'late', remainingBytes: 2 * MB, expiresAtMs: T0 + 60 * DAY });
    sim = addTopUp(sim, { id: 'soon', remainingBytes: 1 * MB, expiresAtMs: T0 + 30 * DAY });
    sim = addTopUp(sim, { id: 'gone', remainingBytes: 5 * MB, expiresAtMs: T0 });
    expect(sim.topUps.map((t) => t.id)).toEqual(['gone', 'soon', 'late']);
    const r = rateUsage(rp, sim, null, usage(6 * MB));
    expect(kinds(r)).toEqual([
      ['included', 1 * MB, 0, null],
      ['top_up', 1 * MB, 0, 'soon'],
      ['top_up', 2 * MB, 0, 'late'],
      ['overage', 2 * MB, 1_000_000, null],
    ]);
    expect(r.amountMicros).toBe(1_000_000);
    expect(r.sim.topUps.map((t) => [t.id, t.remainingBytes])).toEqual([
      ['gone', 5 * MB],
      ['soon', 0],
      ['late', 0],
    ]);
    expect(r.sim).toMatchObject({ overageBytes: 2 * MB, overageMicros: 1_000_000, cycleBytes: 6 * MB });
    // The balance given is never changed in place.
    expect(sim.topUps[1]!.remainingBytes).toBe(1 * MB);
  });

  it('stops charging overage at the cap, and keeps counting', () => {
    const sim = openSimBalance(rp.plan, { includedBytes: 0 });
    const a = rateUsage(rp, sim, null, usage(99 * MB));
    expect(a.amountMicros).toBe(49_500_000);
    const b = rateUsage(rp, a.sim, null, usage(10 * MB));
    expect(kinds(b)).toEqual([['overage', 10 * MB, 500_000, null]]);
    const c = rateUsage(rp, b.sim, null, usage(10 * MB));
    expect(kinds(c)).toEqual([['overage', 10 * MB, 0, null]]);
    expect(c.sim).toMatchObject({ overageBytes: 119 * MB, overageMicros: 50_000_000 });
  });

  it('charges the growth of the exact cycle figure, so fractions of a micro are never lost', () => {
    // 1 byte at 0.5 CNY per MB is 0.477 micro: nothing on its own, but 3 bytes are 1.43 micros.
    let sim = openSimBalance(rp.plan, { includedBytes: 0 });
    const charges: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = rateUsage(rp, sim, null, usage(1));
      charges.push(r.amountMicros);
      sim = r.sim;
    }
    expect(charges).toEqual([0, 1, 0]);
    expect(sim.overageMicros).toBe(mulDivHalfUp(3, 500_000, MB));
  });

  it('notifies the thresholds crossed, once each', () => {
    const sim = openSimBalance(rp.plan);
    const a = rateUsage(rp, sim, null, usage(69 * MB));
    expect(a.percentsCrossed).toEqual([]);
    const b = rateUsage(rp, a.sim, null, usage(25 * MB));
    expect(b.percentsCrossed).toEqual([70, 90]);
    const c = rateUsage(rp, b.sim, null, usage(6 * MB));
    expect(c.percentsCrossed).toEqual([100]);
    expect(rateUsage(rp, c.sim, null, usage(6 * MB)).percentsCrossed).toEqual([]);
  });
});

describe('zones of overlapping coverage', () => {
  it('attributes usage to the first of the plan’s coverage zones that covers the network', () => {
    const overlapping = createZoneIndex([...zones, { id: 'BR', name: 'Belt and Road', countries: ['DE', 'KZ'], networks: [] }]);
    const p = createRatePlan({ ...plan().plan, id: 'br', coverageZoneIds: ['BR', 'EU'] });
    const rp = compileRatingPlan(p, overlapping);
    expect(rp.classify(DE)).toEqual({ coverage: -1, zoneId: 'BR' });
    expect(rp.classify(FR)).toEqual({ coverage: -1, zoneId: 'EU' });
    expect(rp.classify('40101')).toEqual({ coverage: -1, zoneId: 'BR' });
    expect(rp.classify(US)).toEqual({ coverage: -2, zoneId: 'US' });
    expect(rp.classify(null)).toEqual({ coverage: -1, zoneId: null });
    expect(rp.classify(DE)).toBe(rp.classify(DE));
  });
});

describe('enforcement', () => {
  const blocking = plan({ overage: null });

  it('suspends when the included data is used up on a plan without overage (套内用尽关停)', () => {
    const sim = openSimBalance(blocking.plan);
    const exact = rateUsage(blocking, sim, null, usage(100 * MB));
    expect(exact.enforcement).toBe('quota');
    expect(kinds(exact)).toEqual([['included', 100 * MB, 0, null]]);
    const beyond = rateUsage(blocking, exact.sim, null, usage(3 * KB));
    expect(kinds(beyond)).toEqual([['blocked', 3 * KB, 0, 'exhausted']]);
    expect(beyond.enforcement).toBe('quota');
    expect(beyond.sim.cycleBytes).toBe(100 * MB + 3 * KB);
    // A top-up lifts it; an expired one does not.
    expect(rateUsage(blocking, addTopUp(exact.sim, { id: 't', remainingBytes: MB, expiresAtMs: T0 + 2 * DAY }), null, usage(0)).enforcement).toBe('none');
    expect(rateUsage(blocking, addTopUp(exact.sim, { id: 't', remainingBytes: MB, expiresAtMs: T0 }), null, usage(0)).enforcement).toBe('quota');
  });

  it('cuts off at the threshold whatever the balance (超阈值断网)', () => {
    const rp = plan({ overage: { pricePerMbMicros: 100_000, capMicros: null } });
    expect(rp.plan.cutoffBytes).toBe(3 * GB);
    const sim = openSimBalance(rp.plan);
    const below = rateUsage(rp, sim, null, usage(3 * GB - 1));
    expect(below.enforcement).toBe('none');
    const at = rateUsage(rp, below.sim, null, usage(1));
    expect(at.enforcement).toBe('cutoff');
    expect(at.sim.cycleBytes).toBe(3 * GB);
    // Cut-off wins over exhaustion.
    const both = plan({ overage: null, includedBytes: 10 * MB, cutoffBytes: 20 * MB });
    expect(rateUsage(both, openSimBalance(both.plan), null, usage(25 * MB)).enforcement).toBe('cutoff');
  });

  it('disconnects usage outside coverage when the plan blocks it, without touching the allowance', () => {
    const sim = openSimBalance(blocking.plan);
    const r = rateUsage(blocking, sim, null, usage(2 * MB, { mccMnc: JP }));
    expect(kinds(r)).toEqual([['blocked', 2 * MB, 0, 'out_of_coverage']]);
    expect(r.enforcement).toBe('out_of_coverage');
    expect(r.zoneId).toBe('JP');
    expect(r.sim.includedRemainingBytes).toBe(100 * MB);
    expect(rateUsage(blocking, sim, null, usage(0, { mccMnc: CN })).enforcement).toBe('out_of_coverage');
    expect(rateUsage(blocking, sim, null, usage(2 * MB, { mccMnc: null })).pieces[0]!.kind).toBe('included');
    expect(rateUsage(blocking, sim, null, usage(2 * MB, { mccMnc: FR })).pieces[0]!.kind).toBe('included');
  });
});

describe('out of coverage at a roaming price', () => {
  const rp = plan({ outOfCoverage: { kind: 'rate', pricePerMbMicros: 2_000_000, zoneRates: [{ zoneId: 'US', pricePerMbMicros: 1_000_000 }] } });

  it('rates by the zone price where one applies, else the general price, outside the allowance', () => {
    const sim = openSimBalance(rp.plan);
    const us = rateUsage(rp, sim, null, usage(3 * MB, { mccMnc: US }));
    expect(kinds(us)).toEqual([['roaming', 3 * MB, 3_000_000, 'US']]);
    const jp = rateUsage(rp, us.sim, null, usage(1 * MB, { mccMnc: JP }));
    expect(kinds(jp)).toEqual([['roaming', 1 * MB, 2_000_000, null]]);
    expect([us.zoneId, jp.zoneId]).toEqual(['US', 'JP']);
    expect(rateUsage(rp, sim, null, usage(MB, { mccMnc: CN })).zoneId).toBeNull();
    expect(jp.sim).toMatchObject({ roamingBytes: [1 * MB, 3 * MB], roamingMicros: 5_000_000, includedRemainingBytes: 100 * MB, cycleBytes: 4 * MB });
    expect(jp.enforcement).toBe('none');
  });
});

describe('test period', () => {
  const rp = plan({ testAllowanceBytes: 30 * MB, overage: null });

  it('is free up to the test allowance, anywhere; the rest is rated under the plan', () => {
    const sim = openSimBalance(rp.plan);
    const abroad = rateUsage(rp, sim, null, usage(10 * MB, { inTestPeriod: true, mccMnc: CN }));
    expect(kinds(abroad)).toEqual([['test', 10 * MB, 0, null]]);
    expect(abroad).toMatchObject({ enforcement: 'none', testEnded: false });
    expect(abroad.sim).toMatchObject({ testRemainingBytes: 20 * MB, cycleBytes: 0 });
    const end = rateUsage(rp, abroad.sim, null, usage(25 * MB, { inTestPeriod: true }));
    expect(kinds(end)).toEqual([
      ['test', 20 * MB, 0, null],
      ['included', 5 * MB, 0, null],
    ]);
    expect(end).toMatchObject({ testEnded: true });
    expect(end.sim).toMatchObject({ testRemainingBytes: 0, cycleBytes: 5 * MB, includedRemainingBytes: 95 * MB });
  });

  it('gives nothing free outside the test period', () => {
    expect(kinds(rateUsage(rp, openSimBalance(rp.plan), null, usage(MB)))).toEqual([['included', MB, 0, null]]);
  });
});

describe('rating increment', () => {
  const rp = plan({ ratingIncrementBytes: KB });

  it('rounds each session up to the increment, across its deltas', () => {
    let sim = openSimBalance(rp.plan);
    const rated: number[] = [];
    let before = 0;
    for (const bytes of [700, 300, 24, 1, 0, 2000]) {
      const r = rateUsage(rp, sim, null, usage(bytes, { sessionBytesBefore: before }));
      rated.push(r.ratedBytes);
      sim = r.sim;
      before += bytes;
    }
    expect(rated).toEqual([1024, 0, 0, 1024, 0, 1024]);
    expect(sim.cycleBytes).toBe(Math.ceil(before / KB) * KB);
  });
});

describe('pools', () => {
  const rp = plan({ sharing: 'pooled', overage: null });

  it('shares the pool between members; top-ups stay the SIM’s own', () => {
    let pool = openPool(10 * MB);
    let a = openSimBalance(rp.plan);
    const b = addTopUp(openSimBalance(rp.plan), { id: 'b1', remainingBytes: MB, expiresAtMs: T0 + 9 * DAY });
    expect(a.includedBytes).toBe(0);
    const r1 = rateUsage(rp, a, pool, usage(7.5 * MB));
    expect(kinds(r1)).toEqual([['pool', 7.5 * MB, 0, null]]);
    expect(r1.percentsCrossed).toEqual([70]);
    pool = r1.pool!;
    a = r1.sim;
    const r2 = rateUsage(rp, b, pool, usage(4 * MB));
    expect(kinds(r2)).toEqual([
      ['pool', 2.5 * MB, 0, null],
      ['top_up', MB, 0, 'b1'],
      ['blocked', 0.5 * MB, 0, 'exhausted'],
    ]);
    expect(r2).toMatchObject({ poolExhausted: true, percentsCrossed: [90, 100], enforcement: 'quota', pool: { sizeBytes: 10 * MB, remainingBytes: 0 } });
    // The other member sees the empty pool on its next report.
    expect(rateUsage(rp, a, r2.pool, usage(0)).enforcement).toBe('quota');
  });

  it('needs the pool balance', () => {
    expect(() => rateUsage(rp, openSimBalance(rp.plan), null, usage(1))).toThrow(/pooled/);
  });

  it('grows and shrinks with members, never below zero', () => {
    expect(resizePool({ sizeBytes: 10, remainingBytes: 4 }, 5)).toEqual({ sizeBytes: 15, remainingBytes: 9 });
    expect(resizePool({ sizeBytes: 10, remainingBytes: 4 }, -6)).toEqual({ sizeBytes: 4, remainingBytes: 0 });
  });
});

describe('SMS', () => {
  it('uses the included messages first, then charges each', () => {
    const p = createRatePlan({
      id: 'p',
      effectiveFrom: new Date(T0),
      name: 'p',
      monthlyFeeMicros: 0,
      includedBytes: 0,
      coverageZoneIds: ['EU'],
      overage: null,
      includedSms: 2,
      smsPriceMicros: 1_200_000,
    });
    const a = rateSms(p, openSimBalance(p), 3);
    expect(a).toMatchObject({ includedCount: 2, chargedCount: 1, amountMicros: 1_200_000 });
    expect(rateSms(p, a.sim, 2)).toMatchObject({ includedCount: 0, chargedCount: 2, amountMicros: 2_400_000 });
  });
});

describe('input checks', () => {
  it('refuses negative or fractional byte counts', () => {
    const rp = plan();
    expect(() => rateUsage(rp, openSimBalance(rp.plan), null, usage(-1))).toThrow(RangeError);
    expect(() => rateUsage(rp, openSimBalance(rp.plan), null, usage(1.5))).toThrow(RangeError);
  });
});

// --- properties -------------------------------------------------------------------------------------------------

const NETWORKS = [DE, FR, US, JP, CN, null] as const;

const planArb = fc
  .record({
    includedBytes: fc.integer({ min: 0, max: 6 * MB }),
    sharing: fc.constantFrom('individual' as const, 'pooled' as const),
    overage: fc.option(fc.record({ pricePerMbMicros: fc.integer({ min: 0, max: 3_000_000 }), capMicros: fc.option(fc.integer({ min: 1, max: 8_000_000 })) })),
    cutoffExtra: fc.option(fc.integer({ min: 1, max: 12 * MB })),
    testAllowanceBytes: fc.integer({ min: 0, max: 2 * MB }),
    ratingIncrementBytes: fc.constantFrom(1, 1000, KB, 10 * KB),
    roaming: fc.option(fc.record({ general: fc.integer({ min: 0, max: 4_000_000 }), us: fc.integer({ min: 0, max: 4_000_000 }) })),
  })
  .map(
    (p): RatePlan =>
      createRatePlan(
        {
          id: 'prop',
          effectiveFrom: new Date(0),
          name: 'property plan',
          monthlyFeeMicros: 1_000_000,
          includedBytes: p.includedBytes,
          coverageZoneIds: ['EU'],
          overage: p.overage,
          cutoffBytes: p.cutoffExtra === null ? null : p.includedBytes + p.cutoffExtra,
          sharing: p.sharing,
          testAllowanceBytes: p.testAllowanceBytes,
          ratingIncrementBytes: p.ratingIncrementBytes,
          outOfCoverage: p.roaming ? { kind: 'rate', pricePerMbMicros: p.roaming.general, zoneRates: [{ zoneId: 'US', pricePerMbMicros: p.roaming.us }] } : { kind: 'block' },
        },
        zones,
      ),
  );

const topUpsArb = fc.array(fc.record({ remainingBytes: fc.integer({ min: 0, max: 2 * MB }), expiresInDays: fc.integer({ min: -2, max: 40 }) }), { maxLength: 4 });

const stepArb = fc.record({
  member: fc.nat({ max: 2 }),
  session: fc.nat({ max: 2 }),
  bytes: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3 * MB })),
  network: fc.constantFrom(...NETWORKS),
  day: fc.integer({ min: 0, max: 35 }),
  inTestPeriod: fc.boolean(),
});

interface Member {
  sim: SimBalance;
  sessions: number[];
  initialTopUps: readonly TopUp[];
  initialTest: number;
}

function setUp(p: RatePlan, memberTopUps: { remainingBytes: number; expiresInDays: number }[][]): Member[] {
  return memberTopUps.map((list, m) => {
    let sim = openSimBalance(p);
    list.forEach((t, i) => (sim = addTopUp(sim, { id: `m${m}t${i}`, remainingBytes: t.remainingBytes, expiresAtMs: T0 + t.expiresInDays * DAY })));
    return { sim, sessions: [0, 0, 0], initialTopUps: sim.topUps, initialTest: sim.testRemainingBytes };
  });
}

const sumBy = (pieces: readonly RatedPiece[], pred: (p: RatedPiece) => boolean, field: 'bytes' | 'amountMicros' = 'bytes') =>
  pieces.reduce((s, p) => (pred(p) ? s + p[field] : s), 0);

const ceilTo = (x: number, inc: number) => Math.ceil(x / inc) * inc;

describe('rating properties', () => {
  it('rates every byte once: pieces add up to the delta after the increment, balances to what was consumed', () => {
    fc.assert(
      fc.property(planArb, fc.array(topUpsArb, { minLength: 3, maxLength: 3 }), fc.array(stepArb, { maxLength: 40 }), (p, memberTopUps, steps) => {
        const rp = compileRatingPlan(p, index);
        const members = setUp(p, memberTopUps);
        const poolSize = 3 * p.includedBytes;
        let pool: PoolBalance | null = p.sharing === 'pooled' ? openPool(poolSize) : null;
        const all: RatedPiece[][] = [[], [], []];
        for (const s of steps) {
          const m = members[s.member]!;
          const before = m.sessions[s.session]!;
          const r = rateUsage(rp, m.sim, pool, { bytes: s.bytes, sessionBytesBefore: before, mccMnc: s.network, atMs: T0 + s.day * DAY, inTestPeriod: s.inTestPeriod });
          // No byte lost or rated twice.
          expect(r.ratedBytes).toBe(ceilTo(before + s.bytes, p.ratingIncrementBytes) - ceilTo(before, p.ratingIncrementBytes));
          expect(sumBy(r.pieces, () => true)).toBe(r.ratedBytes);
          // Charges never negative, and only on overage and roaming.
          for (const piece of r.pieces) {
            expect(piece.bytes).toBeGreaterThan(0);
            expect(piece.amountMicros).toBeGreaterThanOrEqual(0);
            if (piece.kind !== 'overage' && piece.kind !== 'roaming') expect(piece.amountMicros).toBe(0);
          }
          expect(r.amountMicros).toBe(sumBy(r.pieces, () => true, 'amountMicros'));
          // Consumption order: included (or pool) before top-ups, valid top-ups before overage or blocking.
          const atMs = T0 + s.day * DAY;
          const includedLeft = pool ? r.pool!.remainingBytes : r.sim.includedRemainingBytes;
          const liveTopUps = r.sim.topUps.filter((t) => t.expiresAtMs > atMs).reduce((a, t) => a + t.remainingBytes, 0);
          if (r.pieces.some((x) => x.kind === 'top_up')) expect(includedLeft).toBe(0);
          if (r.pieces.some((x) => x.kind === 'overage' || x.ref === 'exhausted')) expect(includedLeft + liveTopUps).toBe(0);
          for (const x of r.pieces.filter((y) => y.kind === 'top_up')) expect(m.sim.topUps.find((t) => t.id === x.ref)!.expiresAtMs).toBeGreaterThan(atMs);
          // Overage never beyond the cap, and exactly the capped price of the cycle's overage bytes.
          const fullOverage = p.overage ? mulDivHalfUp(r.sim.overageBytes, p.overage.pricePerMbMicros, MB) : 0;
          expect(r.sim.overageMicros).toBe(p.overage && p.overage.capMicros !== null ? Math.min(p.overage.capMicros, fullOverage) : fullOverage);
          // The balance as stored (JSON, fields at their opening value left out) reads back the same.
          expect(balanceFromStored(JSON.parse(JSON.stringify(storedBalance(r.sim))) as Partial<SimBalance>)).toEqual(r.sim);
          m.sim = r.sim;
          m.sessions[s.session] = before + s.bytes;
          all[s.member]!.push(...r.pieces);
          if (pool) pool = r.pool;
        }
        let poolUsed = 0;
        members.forEach((m, i) => {
          const pieces = all[i]!;
          const sim = m.sim;
          expect(sumBy(pieces, (x) => x.kind === 'included')).toBe(sim.includedBytes - sim.includedRemainingBytes);
          expect(sumBy(pieces, (x) => x.kind === 'test')).toBe(m.initialTest - sim.testRemainingBytes);
          expect(sumBy(pieces, (x) => x.kind === 'overage')).toBe(sim.overageBytes);
          expect(sumBy(pieces, (x) => x.kind === 'overage', 'amountMicros')).toBe(sim.overageMicros);
          expect(sumBy(pieces, (x) => x.kind === 'roaming')).toBe(sim.roamingBytes.reduce((a, b) => a + b, 0));
          expect(sumBy(pieces, (x) => x.kind === 'roaming', 'amountMicros')).toBe(sim.roamingMicros);
          expect(sumBy(pieces, (x) => x.kind !== 'test')).toBe(sim.cycleBytes);
          m.initialTopUps.forEach((t, k) => {
            const after = sim.topUps[k]!;
            expect(after.id).toBe(t.id);
            expect(after.remainingBytes).toBeGreaterThanOrEqual(0);
            expect(sumBy(pieces, (x) => x.kind === 'top_up' && x.ref === t.id)).toBe(t.remainingBytes - after.remainingBytes);
          });
          expect(sim.includedRemainingBytes).toBeGreaterThanOrEqual(0);
          poolUsed += sumBy(pieces, (x) => x.kind === 'pool');
        });
        // The pool balance is its size minus what the members took from it.
        if (pool) {
          expect(pool.remainingBytes).toBe(poolSize - poolUsed);
          expect(pool.remainingBytes).toBeGreaterThanOrEqual(0);
        } else {
          expect(poolUsed).toBe(0);
        }
        // The whole of each session is rated as its total rounded up once.
        members.forEach((m, i) => {
          const total = m.sessions.reduce((a, s) => a + ceilTo(s, p.ratingIncrementBytes), 0);
          expect(sumBy(all[i]!, () => true)).toBe(total);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same totals, balances and outcome for a delta rated whole or in two parts of its session', () => {
    fc.assert(
      fc.property(
        planArb,
        topUpsArb,
        fc.array(stepArb, { maxLength: 12 }),
        stepArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (p, topUps, history, last, cut) => {
          const rp = compileRatingPlan(p, index);
          const [member] = setUp(p, [topUps]);
          let sim = member!.sim;
          let pool: PoolBalance | null = p.sharing === 'pooled' ? openPool(2 * p.includedBytes) : null;
          const sessions = [0, 0, 0];
          for (const s of history) {
            const r = rateUsage(rp, sim, pool, { bytes: s.bytes, sessionBytesBefore: sessions[s.session]!, mccMnc: s.network, atMs: T0 + s.day * DAY, inTestPeriod: s.inTestPeriod });
            sim = r.sim;
            pool = r.pool;
            sessions[s.session]! += s.bytes;
          }
          const base = { mccMnc: last.network, atMs: T0 + last.day * DAY, inTestPeriod: last.inTestPeriod };
          const before = sessions[last.session]!;
          const first = Math.floor(last.bytes * cut);
          const whole = rateUsage(rp, sim, pool, { ...base, bytes: last.bytes, sessionBytesBefore: before });
          const a = rateUsage(rp, sim, pool, { ...base, bytes: first, sessionBytesBefore: before });
          const b = rateUsage(rp, a.sim, a.pool, { ...base, bytes: last.bytes - first, sessionBytesBefore: before + first });
          const totals = (pieces: RatedPiece[]) => {
            const out: Record<string, [number, number]> = {};
            for (const x of pieces) {
              const key = `${x.kind}:${x.ref}`;
              const t = (out[key] ??= [0, 0]);
              t[0] += x.bytes;
              t[1] += x.amountMicros;
            }
            return out;
          };
          expect(totals([...a.pieces, ...b.pieces])).toEqual(totals(whole.pieces));
          expect(a.ratedBytes + b.ratedBytes).toBe(whole.ratedBytes);
          expect(a.amountMicros + b.amountMicros).toBe(whole.amountMicros);
          expect(b.sim).toEqual(whole.sim);
          expect(b.pool).toEqual(whole.pool);
          expect(b.enforcement).toBe(whole.enforcement);
          expect([...a.percentsCrossed, ...b.percentsCrossed]).toEqual(whole.percentsCrossed);
          expect(a.testEnded || b.testEnded).toBe(whole.testEnded);
          expect(a.poolExhausted || b.poolExhausted).toBe(whole.poolExhausted);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rates two sessions at most one increment above one session of the same bytes', () => {
    fc.assert(
      fc.property(planArb, fc.nat({ max: 5 * MB }), fc.nat({ max: 5 * MB }), (p, x, y) => {
        const rp = compileRatingPlan(p, index);
        const sim = openSimBalance(p);
        const pool = p.sharing === 'pooled' ? openPool(p.includedBytes) : null;
        const one = rateUsage(rp, sim, pool, usage(x + y)).ratedBytes;
        const first = rateUsage(rp, sim, pool, usage(x));
        const two = first.ratedBytes + rateUsage(rp, first.sim, first.pool, usage(y)).ratedBytes;
        expect(two - one).toBeGreaterThanOrEqual(0);
        expect(two - one).toBeLessThanOrEqual(p.ratingIncrementBytes);
      }),
      { numRuns: 200 },
    );
  });
});

describe('stored balances', () => {
  it('leave out fields at their opening value and read back whole', () => {
    const pooled = { ...openSimBalance(plan({ sharing: 'pooled' }).plan), cycleBytes: 29_696 };
    expect(storedBalance(pooled)).toEqual({ cycleBytes: 29_696 });
    expect(balanceFromStored({ cycleBytes: 29_696 })).toEqual(pooled);
    // A balance stored whole (before fields were left out) reads back as it was.
    const whole = { ...openSimBalance(plan().plan), overageBytes: 5, overageMicros: 3, roamingBytes: [0, 7], topUps: [{ id: 'top_1', remainingBytes: 1, expiresAtMs: T0 }] };
    expect(balanceFromStored(JSON.parse(JSON.stringify(whole)) as Partial<SimBalance>)).toEqual(whole);
  });
});

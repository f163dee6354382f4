import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cycleOfMonth } from '../rating/billing-cycle.ts';
import { createRatePlan, MB, type RatePlan } from '../rating/rate-plan.ts';
import { buildBills, firstMonthFeeMicros, type FeeGroup, reconcile, type TopUpGroup, type UsageCharge, type UsageGroup } from './bill.ts';
import { bytesAsMb, billCsv } from './bill-export.ts';

const plan = (over: Partial<RatePlan> & { id: string }): RatePlan =>
  createRatePlan({
    name: `Plan ${over.id}`,
    effectiveFrom: new Date('2026-01-01T00:00:00Z'),
    monthlyFeeMicros: 10_000_000,
    includedBytes: MB,
    coverageZoneIds: ['CN'],
    overage: { pricePerMbMicros: 1_000_000, capMicros: null },
    ratingIncrementBytes: 1,
    ...over,
  });

const march = cycleOfMonth('2026-03', 'Asia/Shanghai');
const plans = new Map([
  ['p10', [plan({ id: 'p10' })]],
  ['p10b', [plan({ id: 'p10b', monthlyFeeMicros: 3_333_333 })]],
  ['prepaid', [plan({ id: 'prepaid', termMonths: 12 })]],
  ['usd', [plan({ id: 'usd', currency: 'USD', monthlyFeeMicros: 2_000_000 })]],
]);
const fee = (planId: string, sims: number, activatedDay: number | null = null): FeeGroup => ({ accountId: 'a', planId, activatedDay, sims });
const use = (planId: string | null, zoneId: string | null, charge: UsageCharge, records: number, bytes: number, amountMicros: number): UsageGroup => ({
  accountId: 'a',
  planId,
  zoneId,
  charge,
  trafficClass: null,
  records,
  bytes,
  amountMicros,
});

describe('bills', () => {
  it('prorates the first month by days from activation, the activation day counting', () => {
    expect(firstMonthFeeMicros(31_000_000, 1, march)).toBe(31_000_000);
    expect(firstMonthFeeMicros(31_000_000, 31, march)).toBe(1_000_000);
    expect(firstMonthFeeMicros(10_000_000, 15, march)).toBe(5_483_871); // 10 × 17/31 = 5.4838709…
  });

  it('has one line per fee class and plan and one per usage class, plan and zone; prepaid plans pay no monthly fee', () => {
    const [bill, ...others] = buildBills({
      accountId: 'a',
      kind: 'retail',
      cycle: march,
      plans,
      fees: [fee('p10', 3), fee('p10', 2, 15), fee('p10', 1, 31), fee('prepaid', 5)],
      usage: [use('p10', 'CN', 'overage', 4, 3 * MB, 3_000_000), use('p10', 'CN', 'none', 10, 9 * MB, 0), use('p10', 'EU', 'roaming', 1, MB, 5_000_001)],
    });
    expect(others).toEqual([]);
    expect(bill!.lines.map((l) => [l.kind, l.planId, l.zoneId, l.quantity, l.amountMicros, l.amountMinor])).toEqual([
      ['monthly_fee', 'p10', null, 3, 30_000_000, 3000],
      ['first_month_fee', 'p10', null, 3, 2 * 5_483_871 + 322_581, 1129],
      ['usage_included', 'p10', 'CN', 10, 0, 0],
      ['overage', 'p10', 'CN', 4, 3_000_000, 300],
      ['roaming', 'p10', 'EU', 1, 5_000_001, 500],
    ]);
    expect(bill!.lines.map((l) => l.lineNo)).toEqual([1, 2, 3, 4, 5]);
    expect(bill).toMatchObject({ currency: 'CNY', totalMinor: 3000 + 1129 + 300 + 500, usageRecords: 15 });
  });

  it('rounds each line once, half up, and totals the rounded lines', () => {
    const [bill] = buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [fee('p10b', 1)], usage: [use('p10b', 'CN', 'overage', 1, MB, 5_000)] });
    expect(bill!.lines.map((l) => l.amountMinor)).toEqual([333, 1]); // 3.333333 → 3.33, 0.005 → 0.01
    expect(bill!.totalMinor).toBe(334);
    expect(bill!.totalMicros).toBe(3_338_333);
  });

  it('makes one bill per currency and none for an account with nothing to bill', () => {
    const bills = buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [fee('p10', 1), fee('usd', 2)], usage: [use(null, null, 'none', 2, 100, 0)] });
    expect(bills.map((b) => [b.currency, b.totalMinor, b.lines.length])).toEqual([
      ['CNY', 1000, 2],
      ['USD', 400, 1],
    ]);
    expect(buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [], usage: [] })).toEqual([]);
  });

  it('reconciles: every record is in exactly one line, to the micro (property)', () => {
    const charges: UsageCharge[] = ['none', 'overage', 'roaming'];
    const group = fc.record({
      planId: fc.constantFrom('p10', 'p10b'),
      zoneId: fc.constantFrom('CN', 'EU', null),
      charge: fc.constantFrom(...charges),
      records: fc.integer({ min: 1, max: 1000 }),
      bytes: fc.integer({ min: 0, max: 2 ** 40 }),
      amountMicros: fc.integer({ min: 0, max: 10 ** 12 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(group, { selector: (g) => `${g.planId}|${g.zoneId}|${g.charge}` }), (groups) => {
        const usage = groups.map((g) => ({ ...g, accountId: 'a', trafficClass: null, amountMicros: g.charge === 'none' ? 0 : g.amountMicros }));
        const bills = buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [], usage });
        const bill = bills[0] ?? { lines: [], totalMinor: 0 };
        const r = reconcile(bill, usage);
        expect(r.balanced).toBe(true);
        expect(r.totalMatches).toBe(true);
        expect(r.billed.amountMicros).toBe(usage.reduce((s, u) => s + u.amountMicros, 0));
        for (const l of bill.lines) expect(l.amountMinor).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('has an SMS line per plan and top-up lines per product and paying order; top-ups paid by an order are not charged again', () => {
    const topUp = (orderId: string | null, topUps: number, priceMicros: number): TopUpGroup => ({
      accountId: 'a',
      productId: 'cn-100mb',
      orderId,
      currency: 'CNY',
      unitPriceMicros: priceMicros / topUps,
      topUps,
      bytes: topUps * 100 * MB,
      priceMicros,
    });
    const sms = [{ accountId: 'a', planId: 'p10', messages: 7, amountMicros: 450_000 }];
    const topUps = [topUp(null, 2, 25_000_000), topUp('ord_1', 1, 12_500_000)];
    const [bill] = buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [fee('p10', 1)], usage: [use('p10', 'CN', 'none', 3, MB, 0)], sms, topUps });
    expect(bill!.lines.map((l) => [l.kind, l.planId, l.productId, l.orderId, l.quantity, l.amountMicros, l.amountMinor])).toEqual([
      ['monthly_fee', 'p10', null, null, 1, 10_000_000, 1000],
      ['usage_included', 'p10', null, null, 3, 0, 0],
      ['sms', 'p10', null, null, 7, 450_000, 45],
      ['top_up', null, 'cn-100mb', null, 2, 25_000_000, 2500],
      ['top_up', null, 'cn-100mb', 'ord_1', 1, 0, 0],
    ]);
    expect(bill!.usageRecords).toBe(3);
    expect(bill!.totalMinor).toBe(1000 + 45 + 2500);
    expect(reconcile(bill!, [use('p10', 'CN', 'none', 3, MB, 0)], { sms, topUps }).balanced).toBe(true);
    const late = reconcile(bill!, [use('p10', 'CN', 'none', 3, MB, 0)], { sms: [{ ...sms[0]!, messages: 8, amountMicros: 600_000 }], topUps: [topUps[0]!] });
    expect(late.differences.map((d) => [d.kind, d.orderId, d.billed.records, d.recorded.records])).toEqual([
      ['sms', null, 7, 8],
      ['top_up', 'ord_1', 1, 0],
    ]);
  });

  it('names the lines that do not match the records', () => {
    const usage = [use('p10', 'CN', 'overage', 4, 3 * MB, 3_000_000)];
    const [bill] = buildBills({ accountId: 'a', kind: 'retail', cycle: march, plans, fees: [], usage });
    const late = [...usage, use('p10', 'EU', 'roaming', 1, MB, 7)];
    const r = reconcile(bill!, late);
    expect(r.balanced).toBe(false);
    expect(r.differences).toEqual([{ kind: 'roaming', planId: 'p10', zoneId: 'EU', trafficClass: null, productId: null, orderId: null, billed: { records: 0, bytes: 0, amountMicros: 0 }, recorded: { records: 1, bytes: MB, amountMicros: 7 } }]);
  });

  it('prints data in MB exactly and guards CSV cells against formulas', () => {
    expect(bytesAsMb(MB)).toBe('1.000000');
    expect(bytesAsMb(1536 * 1024)).toBe('1.500000');
    expect(bytesAsMb(1)).toBe('0.000001');
    const csv = billCsv(
      {
        id: 'bill_1',
        period: '2026-03',
        currency: 'CNY',
        revision: 1,
        accountId: 'a',
        accountName: 'A',
        issuedAt: new Date(0),
        periodStart: march.start,
        periodEnd: march.end,
        totalMinor: 1000,
        totalMicros: 10_000_000,
        lines: [{ lineNo: 1, kind: 'monthly_fee', planId: 'p', planName: '=HYPERLINK("x")', zoneId: null, trafficClass: null, quantity: 1, bytes: 0, unitPriceMicros: 10_000_000, amountMicros: 10_000_000, amountMinor: 1000, productId: null, orderId: null }],
        zoneNames: new Map(),
      },
      'zh',
    ).toString('utf8');
    expect(csv.split('\r\n')[1]).toBe('1,月功能费,"=HYPERLINK(""x"")",,1,,10.00,10.00,10.00');
    expect(csv.split('\r\n')[2]).toBe('合计,,,,,,,10.00,10.00');
  });
});

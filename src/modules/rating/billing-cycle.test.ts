import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkInvoiceRequest,
  checkRenewalLimit,
  expiryReminders,
  termEndingIn,
  checkTimeZone,
  cycleAt,
  cycleOfMonth,
  daysInMonth,
  daysLeftInCycle,
  expiryReminderDates,
  firstCycle,
  type InvoiceableOrder,
  invoiceProblems,
  lastInvoiceDate,
  nextCycle,
  poolSizeBytes,
  prorateByDays,
  renewalWindow,
  renewTerm,
  termExpiry,
  termStatus,
  topUpExpiresAt,
} from './billing-cycle.ts';
import { errorOf } from '../../../test/support/errors.ts';

const at = (s: string) => new Date(s);
/** Local time in Shanghai (UTC+8, no daylight saving). */
const sh = (local: string) => new Date(`${local}+08:00`);
const GB = 1024 ** 3;

describe('billing cycles', () => {
  it('are calendar months in Asia/Shanghai by default', () => {
    expect(cycleAt(at('2026-01-31T16:00:00Z'))).toEqual({ month: '2026-02', start: at('2026-01-31T16:00:00Z'), end: at('2026-02-28T16:00:00Z') });
    expect(cycleAt(at('2026-01-31T15:59:59.999Z')).month).toBe('2026-01');
    expect(cycleOfMonth('2026-12')).toEqual({ month: '2026-12', start: at('2026-11-30T16:00:00Z'), end: at('2026-12-31T16:00:00Z') });
    expect(nextCycle(cycleOfMonth('2026-12'))).toEqual(cycleOfMonth('2027-01'));
  });

  it('follow the account’s time zone, daylight saving included', () => {
    const ny = cycleOfMonth('2026-03', 'America/New_York');
    expect(ny).toEqual({ month: '2026-03', start: at('2026-03-01T05:00:00Z'), end: at('2026-04-01T04:00:00Z') });
    expect(cycleAt(at('2026-03-01T04:59:59Z'), 'America/New_York').month).toBe('2026-02');
  });

  it('tile time: each instant is in exactly one cycle, and the next starts where one ends', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2060, 0, 1) }), fc.constantFrom('Asia/Shanghai', 'America/New_York', 'Asia/Kolkata', 'UTC'), (t, tz) => {
        const c = cycleAt(new Date(t), tz);
        expect(c.start.getTime()).toBeLessThanOrEqual(t);
        expect(t).toBeLessThan(c.end.getTime());
        expect(nextCycle(c, tz).start).toEqual(c.end);
      }),
      { numRuns: 200 },
    );
  });

  it('start at activation for the first month', () => {
    expect(firstCycle(sh('2021-07-12T09:30:00'))).toEqual({ month: '2021-07', start: sh('2021-07-12T09:30:00'), end: sh('2021-08-01T00:00:00') });
  });

  it('refuse a malformed month or time zone', () => {
    expect(errorOf(() => cycleOfMonth('2026-13')).code).toBe('invalid_month');
    expect(errorOf(() => cycleOfMonth('2026-1')).code).toBe('invalid_month');
    expect(errorOf(() => checkTimeZone('Mars/Olympus')).code).toBe('invalid_time_zone');
    expect(() => checkTimeZone('Asia/Shanghai')).not.toThrow();
  });
});

describe('prepaid terms (seed 003, FAQ 5)', () => {
  it('count the month of activation as the first month', () => {
    expect(termExpiry(sh('2021-07-12T10:00:00'), 12)).toEqual({ lastMonth: '2022-06', expiryDate: '2022-06-30', expiresAt: sh('2022-07-01T00:00:00') });
    expect(termExpiry(sh('2021-12-31T10:00:00'), 12)).toEqual({ lastMonth: '2022-11', expiryDate: '2022-11-30', expiresAt: sh('2022-12-01T00:00:00') });
  });

  it('take the activation day in the account’s time zone', () => {
    // 2021-12-31 20:00 UTC is already 2022-01-01 in Shanghai.
    expect(termExpiry(at('2021-12-31T20:00:00Z'), 12).expiryDate).toBe('2022-12-31');
    expect(termExpiry(at('2021-12-31T20:00:00Z'), 12, 'UTC').expiryDate).toBe('2022-11-30');
    expect(termExpiry(sh('2024-01-15T00:00:00'), 2).expiryDate).toBe('2024-02-29');
    expect(termExpiry(sh('2024-01-15T00:00:00'), 1).expiryDate).toBe('2024-01-31');
  });

  it('refuse a term that is not a whole number of months', () => {
    expect(errorOf(() => termExpiry(sh('2024-01-15T00:00:00'), 0)).code).toBe('invalid_term');
  });
});

describe('renewal', () => {
  const expiry = termExpiry(sh('2021-07-12T10:00:00'), 12); // ends 2022-06-30

  it('is possible until the 22nd of the month after expiry; on the 23rd the SIM is due for cancellation', () => {
    expect(renewalWindow(expiry)).toEqual({ lastRenewalDate: '2022-07-22', cancelAt: sh('2022-07-23T00:00:00') });
    expect(termStatus(expiry, sh('2022-06-30T23:59:59'))).toBe('in_term');
    expect(termStatus(expiry, sh('2022-07-01T00:00:00'))).toBe('expired_renewable');
    expect(termStatus(expiry, sh('2022-07-22T23:59:59'))).toBe('expired_renewable');
    expect(termStatus(expiry, sh('2022-07-23T00:00:00'))).toBe('cancel_due');
    expect(renewalWindow(termExpiry(sh('2021-12-31T10:00:00'), 1))).toMatchObject({ lastRenewalDate: '2022-01-22' });
  });

  it('continues the term from its old end, also after expiry', () => {
    expect(renewTerm(expiry, 12, sh('2022-06-01T00:00:00'))).toMatchObject({ lastMonth: '2023-06', expiryDate: '2023-06-30' });
    expect(renewTerm(expiry, 1, sh('2022-07-22T12:00:00'))).toMatchObject({ expiryDate: '2022-07-31' });
    const e = errorOf(() => renewTerm(expiry, 12, sh('2022-07-23T00:00:01')));
    expect(e.code).toBe('renewal_closed');
    expect(e.message).toBe('the term expired on 2022-06-30; renewal was possible until 2022-07-22');
  });

  it('reminds the given numbers of days before expiry', () => {
    expect(expiryReminderDates(expiry, [30, 15])).toEqual(['2022-05-31', '2022-06-15']);
  });
});

describe('top-up validity', () => {
  it('ends with the current cycle, or with the Nth month counting the current one', () => {
    expect(topUpExpiresAt(sh('2026-06-21T10:00:00'))).toEqual(sh('2026-07-01T00:00:00'));
    expect(topUpExpiresAt(sh('2026-06-30T23:59:59'))).toEqual(sh('2026-07-01T00:00:00'));
    expect(topUpExpiresAt(sh('2026-06-21T10:00:00'), 6)).toEqual(sh('2026-12-01T00:00:00'));
    expect(errorOf(() => topUpExpiresAt(sh('2026-06-21T10:00:00'), 0)).code).toBe('invalid_term');
  });
});

describe('proration by days', () => {
  it('counts the joining day', () => {
    expect(daysLeftInCycle(sh('2026-06-21T23:00:00'))).toEqual({ daysLeft: 10, daysInMonth: 30 });
    expect(prorateByDays(3 * GB, sh('2026-06-21T08:00:00'))).toBe(GB);
    expect(prorateByDays(3 * GB, sh('2026-06-01T00:00:00'))).toBe(3 * GB);
    expect(prorateByDays(100, sh('2026-02-28T00:00:00'))).toBe(3); // 1/28 of 100, rounded down
    expect(daysInMonth(2024, 2)).toBe(29);
  });

  it('sizes a pool from its members, prorating those who joined during the cycle', () => {
    const cycle = cycleOfMonth('2026-06');
    const members = [
      { allowanceBytes: 3 * GB, joinedAt: sh('2026-01-10T00:00:00') },
      { allowanceBytes: 3 * GB, joinedAt: sh('2026-06-21T10:00:00') },
      { allowanceBytes: 3 * GB, joinedAt: sh('2026-07-01T00:00:00') },
      { allowanceBytes: 3 * GB, joinedAt: cycle.start },
    ];
    expect(poolSizeBytes(members, cycle)).toBe(3 * GB + GB + 3 * GB);
  });

  it('grows a pool by 15/30 of an allowance for a member joining on the 16th of a 30-day month', () => {
    const cycle = cycleOfMonth('2026-04');
    const before = [{ allowanceBytes: 30 * GB, joinedAt: sh('2026-01-15T10:00:00') }];
    const joined = { allowanceBytes: 30 * GB, joinedAt: sh('2026-04-16T23:59:59') };
    expect(poolSizeBytes([...before, joined], cycle) - poolSizeBytes(before, cycle)).toBe(15 * GB);
  });

  it('never gives a member more than the whole month', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }), (bytes, t) => {
        const p = prorateByDays(bytes, new Date(t));
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});

describe('invoices (发票)', () => {
  const order = (over: Partial<InvoiceableOrder> = {}): InvoiceableOrder => ({
    id: 'o1',
    status: 'paid',
    amountMinor: 12_000,
    currency: 'CNY',
    paidAt: sh('2026-03-31T10:00:00'),
    invoiceId: null,
    ...over,
  });
  const now = sh('2026-06-30T12:00:00');

  it('accepts paid orders of the last 3 months above 100 CNY together', () => {
    expect(checkInvoiceRequest([order()], now)).toBe(12_000);
    expect(checkInvoiceRequest([order({ amountMinor: 6_000 }), order({ id: 'o2', amountMinor: 4_001 })], now)).toBe(10_001);
  });

  it('needs more than 100 CNY in one request', () => {
    expect(invoiceProblems([order({ amountMinor: 10_000 })], now)).toEqual([
      { orderId: null, message: 'the orders add up to 100.00 CNY; an invoice must be for more than 100.00 CNY' },
    ]);
  });

  it('invoices an order until the same day 3 months after payment', () => {
    expect(lastInvoiceDate(sh('2026-03-31T10:00:00'))).toBe('2026-06-30');
    expect(lastInvoiceDate(sh('2026-01-15T10:00:00'))).toBe('2026-04-15');
    expect(invoiceProblems([order()], sh('2026-07-01T00:00:00'))).toEqual([
      { orderId: 'o1', message: 'order o1 was paid more than 3 months ago; it could be invoiced until 2026-06-30' },
    ]);
  });

  it('invoices each order once, and only paid orders in CNY', () => {
    const e = errorOf(() =>
      checkInvoiceRequest(
        [order({ invoiceId: 'inv_1' }), order({ id: 'o2', status: 'pending', paidAt: null }), order({ id: 'o3', currency: 'USD' }), order({ id: 'o3', currency: 'USD' })],
        now,
      ),
    );
    expect(e.code).toBe('invoice_not_allowed');
    expect(e.details?.problems).toEqual([
      { orderId: 'o1', message: 'order o1 is already invoiced (inv_1); each order is invoiced once' },
      { orderId: 'o2', message: 'order o2 is pending, not paid' },
      { orderId: 'o3', message: 'order o3 is in USD; invoices are in CNY' },
      { orderId: 'o3', message: 'order o3 is listed twice' },
      { orderId: 'o3', message: 'order o3 is in USD; invoices are in CNY' },
    ]);
    expect(invoiceProblems([], now)).toEqual([{ orderId: null, message: 'an invoice needs at least one order' }]);
  });

  it('invoices fulfilled orders like paid ones, never cancelled or failed ones', () => {
    expect(checkInvoiceRequest([order({ status: 'fulfilled' })], now)).toBe(12_000);
    expect(invoiceProblems([order({ status: 'cancelled' })], now)[0]).toEqual({ orderId: 'o1', message: 'order o1 is cancelled, not paid' });
    expect(invoiceProblems([order({ status: 'failed' })], now)[0]).toEqual({ orderId: 'o1', message: 'order o1 is failed, not paid' });
  });
});

describe('stored terms, reminders and the renewal limit', () => {
  it('rebuilds a term from its last month', () => {
    expect(termEndingIn('2022-06')).toEqual(termExpiry(sh('2021-07-12T12:00:00'), 12));
    expect(termEndingIn('2022-02', 'Europe/Berlin')).toEqual({ lastMonth: '2022-02', expiryDate: '2022-02-28', expiresAt: at('2022-02-28T23:00:00Z') });
  });

  it('puts the reminders at local midnight 30 and 15 days before the expiry date, earliest first', () => {
    const expiry = termEndingIn('2022-08');
    expect(expiryReminders(expiry, [15, 30])).toEqual([
      { days: 30, date: '2022-08-01', at: sh('2022-08-01T00:00:00') },
      { days: 15, date: '2022-08-16', at: sh('2022-08-16T00:00:00') },
    ]);
  });

  it('refuses a renewal that would take the term more than 120 months ahead', () => {
    const now = sh('2022-05-10T10:00:00');
    expect(() => checkRenewalLimit(termEndingIn('2032-05'), now)).not.toThrow();
    const e = errorOf(() => checkRenewalLimit(termEndingIn('2032-06'), now));
    expect(e.code).toBe('renewal_limit_exceeded');
    expect(e.message).toContain('121 months');
  });
});

/**
 * Billing calendar: cycles (calendar months in the account's time zone), prepaid terms and their expiry, the renewal
 * window, proration by days, and the invoice rules. Rules from the Fanyi manual (seed 003): the month of activation
 * is the first month of a term; renewal is possible until the 22nd of the month after expiry and expired SIMs not
 * renewed are cancelled on the 23rd; an invoice covers orders at most 3 months old, each order at most once, for more
 * than 100 CNY. Pure, no I/O.
 */
import { invalid } from '../../shared/errors.ts';
import { isTimeZone, localDate } from '../../shared/time-zone.ts';
import { localTime, startOfLocalMonth, zonedTime } from '../usage/usage.ts';
import { formatMinor, mulDivFloor } from './money.ts';

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** Throws `invalid_time_zone` unless the runtime knows the IANA zone name. */
export function checkTimeZone(timeZone: string): void {
  if (!isTimeZone(timeZone)) throw invalid('invalid_time_zone', `time zone ${JSON.stringify(timeZone)} is not an IANA time zone such as Asia/Shanghai`);
}

// --- plain calendar arithmetic (no time zone) --------------------------------------------------------------------

interface YearMonth {
  year: number;
  /** 1-12 */
  month: number;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const monthText = (m: YearMonth): string => `${pad(m.year, 4)}-${pad(m.month)}`;
const dateText = (m: YearMonth, day: number): string => `${monthText(m)}-${pad(day)}`;

function addMonths(m: YearMonth, months: number): YearMonth {
  const index = m.year * 12 + (m.month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** Days in a calendar month (28-31). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const MONTH = /^(\d{4})-(\d{2})$/;

function parseMonth(text: string): YearMonth {
  const m = MONTH.exec(text);
  const month = m ? Number(m[2]) : 0;
  if (!m || month < 1 || month > 12) throw invalid('invalid_month', `month ${JSON.stringify(text)} is not a calendar month YYYY-MM`);
  return { year: Number(m[1]), month };
}

// --- cycles ------------------------------------------------------------------------------------------------------

/** A billing cycle: a calendar month in a time zone, `[start, end)`; the first one of a SIM starts at activation. */
export interface BillingCycle {
  /** `YYYY-MM` */
  month: string;
  start: Date;
  end: Date;
}

/** The billing cycle of a calendar month `YYYY-MM`. */
export function cycleOfMonth(month: string, timeZone: string = DEFAULT_TIME_ZONE): BillingCycle {
  const m = parseMonth(month);
  const next = addMonths(m, 1);
  return { month: monthText(m), start: zonedTime(timeZone, m.year, m.month, 1), end: zonedTime(timeZone, next.year, next.month, 1) };
}

/** The billing cycle an instant falls in. */
export function cycleAt(at: Date, timeZone: string = DEFAULT_TIME_ZONE): BillingCycle {
  const l = localTime(at, timeZone);
  return { month: monthText(l), start: startOfLocalMonth(at, timeZone), end: startOfLocalMonth(at, timeZone, 1) };
}

/** The cycle after this one. */
export function nextCycle(cycle: BillingCycle, timeZone: string = DEFAULT_TIME_ZONE): BillingCycle {
  return cycleOfMonth(monthText(addMonths(parseMonth(cycle.month), 1)), timeZone);
}

/** A SIM's first billing cycle: from its activation to the end of that month. */
export function firstCycle(activatedAt: Date, timeZone: string = DEFAULT_TIME_ZONE): BillingCycle {
  return { ...cycleAt(activatedAt, timeZone), start: activatedAt };
}

// --- prepaid terms and renewal -----------------------------------------------------------------------------------

export interface TermExpiry {
  /** The last month of the term, `YYYY-MM`. */
  lastMonth: string;
  /** The last day of the term, `YYYY-MM-DD` (what the customer is shown). */
  expiryDate: string;
  /** The end of the term: local midnight after the last day. */
  expiresAt: Date;
}

function expiryOfLastMonth(last: YearMonth, timeZone: string): TermExpiry {
  const next = addMonths(last, 1);
  return { lastMonth: monthText(last), expiryDate: dateText(last, daysInMonth(last.year, last.month)), expiresAt: zonedTime(timeZone, next.year, next.month, 1) };
}

/**
 * When a prepaid term expires: the month of activation counts as the first month, and the term ends with the last
 * day of its last month. 12 months activated 2021-07-12 expire 2022-06-30; activated 2021-12-31, 2022-11-30.
 */
export function termExpiry(activatedAt: Date, termMonths: number, timeZone: string = DEFAULT_TIME_ZONE): TermExpiry {
  if (!Number.isSafeInteger(termMonths) || termMonths < 1) throw invalid('invalid_term', `a term is a whole number of months from 1 (got ${termMonths})`);
  return expiryOfLastMonth(addMonths(localTime(activatedAt, timeZone), termMonths - 1), timeZone);
}

/** The last day renewal is accepted after expiry. */
export const RENEWAL_LAST_DAY = 22;

export interface RenewalWindow {
  /** The last local day a renewal is accepted, `YYYY-MM-22` of the month after expiry. */
  lastRenewalDate: string;
  /** Local midnight starting the 23rd: an expired SIM not renewed by then is cancelled. */
  cancelAt: Date;
}

export function renewalWindow(expiry: TermExpiry, timeZone: string = DEFAULT_TIME_ZONE): RenewalWindow {
  const after = addMonths(parseMonth(expiry.lastMonth), 1);
  return { lastRenewalDate: dateText(after, RENEWAL_LAST_DAY), cancelAt: zonedTime(timeZone, after.year, after.month, RENEWAL_LAST_DAY + 1) };
}

/**
 * Where a prepaid SIM stands at `now`: in its term; expired but still renewable (until the 22nd of the next month);
 * or past the window (to be cancelled on the 23rd, or already).
 */
export type TermStatus = 'in_term' | 'expired_renewable' | 'cancel_due';

export function termStatus(expiry: TermExpiry, now: Date, timeZone: string = DEFAULT_TIME_ZONE): TermStatus {
  if (now.getTime() < expiry.expiresAt.getTime()) return 'in_term';
  return now.getTime() < renewalWindow(expiry, timeZone).cancelAt.getTime() ? 'expired_renewable' : 'cancel_due';
}

/**
 * The term after a renewal of `months`: it continues from the old term's last month, also when the renewal comes
 * after expiry (within the window). Throws `renewal_closed` after the window.
 */
export function renewTerm(expiry: TermExpiry, months: number, now: Date, timeZone: string = DEFAULT_TIME_ZONE): TermExpiry {
  if (!Number.isSafeInteger(months) || months < 1) throw invalid('invalid_term', `a renewal is a whole number of months from 1 (got ${months})`);
  if (termStatus(expiry, now, timeZone) === 'cancel_due') {
    const w = renewalWindow(expiry, timeZone);
    throw invalid('renewal_closed', `the term expired on ${expiry.expiryDate}; renewal was possible until ${w.lastRenewalDate}`);
  }
  return expiryOfLastMonth(addMonths(parseMonth(expiry.lastMonth), months), timeZone);
}

/** The term that ends with the month `lastMonth` (`YYYY-MM`), as stored. */
export function termEndingIn(lastMonth: string, timeZone: string = DEFAULT_TIME_ZONE): TermExpiry {
  return expiryOfLastMonth(parseMonth(lastMonth), timeZone);
}

/** How far ahead a renewal may take a term: its last month at most this many months after the current one. */
export const MAX_MONTHS_AHEAD = 120;

/**
 * Checks that a renewal stays within the renewal limit (套餐续费数上限): the renewed term may end at most
 * `MAX_MONTHS_AHEAD` months after the current month. Throws `renewal_limit_exceeded` saying how many months are left.
 */
export function checkRenewalLimit(renewed: TermExpiry, now: Date, timeZone: string = DEFAULT_TIME_ZONE): void {
  const current = localTime(now, timeZone);
  const last = parseMonth(renewed.lastMonth);
  const ahead = last.year * 12 + last.month - (current.year * 12 + current.month);
  if (ahead > MAX_MONTHS_AHEAD) {
    throw invalid(
      'renewal_limit_exceeded',
      `the renewed term would end in ${renewed.lastMonth}, ${ahead} months from now; a term may run at most ${MAX_MONTHS_AHEAD} months ahead`,
    );
  }
}

export interface ExpiryReminder {
  /** Days before the expiry date. */
  days: number;
  /** Local date it is due, `YYYY-MM-DD`. */
  date: string;
  /** Local midnight starting that date. */
  at: Date;
}

/** The expiry reminders of a term, `days` before its expiry date each (e.g. 30 and 15), earliest first. */
export function expiryReminders(expiry: TermExpiry, days: readonly number[], timeZone: string = DEFAULT_TIME_ZONE): ExpiryReminder[] {
  const dates = expiryReminderDates(expiry, days);
  return days
    .map((d, i) => {
      const [y, m, day] = dates[i]!.split('-').map(Number) as [number, number, number];
      return { days: d, date: dates[i]!, at: zonedTime(timeZone, y, m, day) };
    })
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The local dates on which expiry reminders are due, `days` before the expiry date each (e.g. 30 and 15). */
export function expiryReminderDates(expiry: TermExpiry, days: readonly number[]): string[] {
  const [y, m, d] = expiry.expiryDate.split('-').map(Number) as [number, number, number];
  return days.map((n) => {
    const at = new Date(Date.UTC(y, m - 1, d - n));
    return dateText({ year: at.getUTCFullYear(), month: at.getUTCMonth() + 1 }, at.getUTCDate());
  });
}

/**
 * When a top-up (加油包) bought at `boughtAt` stops being usable: a pack valid 1 month ends with the current cycle (the
 * usual 加油包, "next month back to zero"); a pack valid N months ends with the Nth month, the current one counting
 * as the first, like a term.
 */
export function topUpExpiresAt(boughtAt: Date, validMonths = 1, timeZone: string = DEFAULT_TIME_ZONE): Date {
  if (!Number.isSafeInteger(validMonths) || validMonths < 1) throw invalid('invalid_term', `a top-up is valid a whole number of months from 1 (got ${validMonths})`);
  return startOfLocalMonth(boughtAt, timeZone, validMonths);
}

// --- proration ---------------------------------------------------------------------------------------------------

/** Days of the cycle from the local day of `at` to the end of its month, that day included, and days in the month. */
export function daysLeftInCycle(at: Date, timeZone: string = DEFAULT_TIME_ZONE): { daysLeft: number; daysInMonth: number } {
  // NOTE: the local date is remembered per quarter hour (shared/time-zone.ts): sizing a pool runs this once per member.
  const date = localDate(at, timeZone);
  const total = daysInMonth(Number(date.slice(0, 4)), Number(date.slice(5, 7)));
  return { daysLeft: total - Number(date.slice(8, 10)) + 1, daysInMonth: total };
}

/**
 * A monthly quantity for the part of the cycle from `joinedAt` on, by days, rounded down: 1 GB for a member joining
 * on the 21st of a 30-day month is 10/30 GB. The joining day counts.
 */
export function prorateByDays(monthly: number, joinedAt: Date, timeZone: string = DEFAULT_TIME_ZONE): number {
  const { daysLeft, daysInMonth: total } = daysLeftInCycle(joinedAt, timeZone);
  return mulDivFloor(monthly, daysLeft, total);
}

export interface PoolMember {
  allowanceBytes: number;
  /** When the SIM joined the pool (activation, or a plan change to the pooled plan). */
  joinedAt: Date;
}

/**
 * The size of a pool in a cycle: the sum of its members' allowances, those who joined during the cycle prorated by
 * days, those who joined after it not counted.
 */
export function poolSizeBytes(members: readonly PoolMember[], cycle: BillingCycle, timeZone: string = DEFAULT_TIME_ZONE): number {
  let size = 0;
  const start = cycle.start.getTime();
  const end = cycle.end.getTime();
  for (const m of members) {
    const joined = m.joinedAt.getTime();
    if (joined >= end) continue;
    size += joined <= start ? m.allowanceBytes : prorateByDays(m.allowanceBytes, m.joinedAt, timeZone);
  }
  return size;
}

// --- invoices (发票) ---------------------------------------------------------------------------------------------

/** An invoice must be for more than this (100 CNY). */
export const INVOICE_MIN_EXCLUSIVE_MINOR = 10_000;
export const INVOICE_CURRENCY = 'CNY';
export const INVOICE_MAX_AGE_MONTHS = 3;
/** Orders that can be invoiced: paid, and fulfilled after payment (完成的订单). */
export const INVOICEABLE_STATUSES: readonly string[] = ['paid', 'fulfilled'];

export interface InvoiceableOrder {
  id: string;
  status: string;
  amountMinor: number;
  currency: string;
  /** When the order was paid; null when it is not. */
  paidAt: Date | null;
  /** The invoice that already covers the order, if any. */
  invoiceId: string | null;
}

export interface InvoiceProblem {
  orderId: string | null;
  message: string;
}

/**
 * The last local day an order paid at `paidAt` can be invoiced: the same day 3 months later (the month's last day
 * where that month is shorter).
 */
export function lastInvoiceDate(paidAt: Date, timeZone: string = DEFAULT_TIME_ZONE): string {
  const l = localTime(paidAt, timeZone);
  const m = addMonths(l, INVOICE_MAX_AGE_MONTHS);
  return dateText(m, Math.min(l.day, daysInMonth(m.year, m.month)));
}

/** What keeps these orders from being invoiced together now; empty when they can be. */
export function invoiceProblems(orders: readonly InvoiceableOrder[], now: Date, timeZone: string = DEFAULT_TIME_ZONE): InvoiceProblem[] {
  const problems: InvoiceProblem[] = [];
  if (orders.length === 0) return [{ orderId: null, message: 'an invoice needs at least one order' }];
  const l = localTime(now, timeZone);
  const today = dateText(l, l.day);
  const seen = new Set<string>();
  let total = 0;
  for (const o of orders) {
    if (seen.has(o.id)) problems.push({ orderId: o.id, message: `order ${o.id} is listed twice` });
    seen.add(o.id);
    if (o.invoiceId !== null) problems.push({ orderId: o.id, message: `order ${o.id} is already invoiced (${o.invoiceId}); each order is invoiced once` });
    if (!INVOICEABLE_STATUSES.includes(o.status) || o.paidAt === null) problems.push({ orderId: o.id, message: `order ${o.id} is ${o.status}, not paid` });
    else if (lastInvoiceDate(o.paidAt, timeZone) < today) {
      problems.push({ orderId: o.id, message: `order ${o.id} was paid more than ${INVOICE_MAX_AGE_MONTHS} months ago; it could be invoiced until ${lastInvoiceDate(o.paidAt, timeZone)}` });
    }
    if (o.currency !== INVOICE_CURRENCY) problems.push({ orderId: o.id, message: `order ${o.id} is in ${o.currency}; invoices are in ${INVOICE_CURRENCY}` });
    total += o.amountMinor;
  }
  if (total <= INVOICE_MIN_EXCLUSIVE_MINOR) {
    problems.push({ orderId: null, message: `the orders add up to ${formatMinor(total, INVOICE_CURRENCY)} CNY; an invoice must be for more than ${formatMinor(INVOICE_MIN_EXCLUSIVE_MINOR, INVOICE_CURRENCY)} CNY` });
  }
  return problems;
}

/** Checks an invoice request; returns its amount in minor units, or throws `invoice_not_allowed` naming every problem. */
export function checkInvoiceRequest(orders: readonly InvoiceableOrder[], now: Date, timeZone: string = DEFAULT_TIME_ZONE): number {
  const problems = invoiceProblems(orders, now, timeZone);
  if (problems.length) throw invalid('invoice_not_allowed', problems.map((p) => p.message).join('; '), { problems });
  return orders.reduce((s, o) => s + o.amountMinor, 0);
}

/** Usage reports: calendar arithmetic in an account's time zone, bucket plans and exact counters. Pure, no I/O. */
import { invalid } from '../../shared/errors.ts';
import type { SmsTotals } from '../notifications/sms-usage.repository.ts';

export const GRANULARITIES = ['hour', 'day', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface UsageTotals {
  bytesIn: number;
  bytesOut: number;
  /** bytesIn + bytesOut. */
  bytes: number;
  /** Usage records aggregated into these totals. */
  records: number;
}

export interface UsageBucket extends UsageTotals {
  /** Start and end (exclusive) of the bucket, clipped to the requested range. */
  start: Date;
  end: Date;
  /** Local name of the bucket in the report's time zone: `2026-01-15T08:00`, `2026-01-15` or `2026-01`. */
  label: string;
}

export interface UsageReport {
  subject: { kind: 'sim' | 'group' | 'account'; id: string };
  timezone: string;
  granularity: Granularity;
  from: Date;
  to: Date;
  buckets: UsageBucket[];
  total: UsageTotals;
  /** The current calendar day in the time zone. */
  today: UsageTotals & { date: string };
  /** The current billing cycle: the calendar month in the time zone. */
  thisCycle: UsageTotals & { month: string; sms: SmsTotals };
}

export const ZERO: UsageTotals = { bytesIn: 0, bytesOut: 0, bytes: 0, records: 0 };

/**
 * An exact non-negative integer from a database counter: PostgreSQL sums of bigint come back as numbers or as
 * strings depending on the driver and type. Throws rather than round a value beyond 2^53.
 */
export function toCount(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`counter ${JSON.stringify(typeof value === 'bigint' ? value.toString() : value)} is not an exact integer`);
  return n;
}

export const totals = (bytesIn: number, bytesOut: number, records: number): UsageTotals => ({ bytesIn, bytesOut, bytes: bytesIn + bytesOut, records });

export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return totals(a.bytesIn + b.bytesIn, a.bytesOut + b.bytesOut, a.records + b.records);
}

// --- calendar in a time zone -------------------------------------------------------------------

/** Wall-clock reading of an instant in a time zone. */
export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(at: Date, timeZone: string): LocalTime & { second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** Offset of the time zone from UTC at an instant, in milliseconds (east positive). */
function offsetMs(at: number, timeZone: string): number {
  const whole = Math.floor(at / 1000) * 1000;
  const l = localTime(new Date(whole), timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - whole;
}

/**
 * The instant at which the wall clock of `timeZone` reads this local time. A time skipped by a DST change resolves
 * to an instant next to the gap; consecutive local days or months still give contiguous, non-overlapping ranges.
 */
export function zonedTime(timeZone: string, year: number, month: number, day: number, hour = 0): Date {
  const wall = Date.UTC(year, month - 1, day, hour);
  // NOTE: two passes, because the offset at the first guess can differ from the offset at the answer near a DST change.
  const guess = wall - offsetMs(wall, timeZone);
  return new Date(wall - offsetMs(guess, timeZone));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Local date `YYYY-MM-DD` of an instant. */
export function localDate(at: Date, timeZone: string): string {
  const l = localTime(at, timeZone);
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`;
}

/** Local month `YYYY-MM` of an instant (the billing cycle it falls in). */
export function localMonth(at: Date, timeZone: string): string {
  return localDate(at, timeZone).slice(0, 7);
}

/** A calendar day moved by `days` (plain calendar arithmetic, no time zone involved). */
function shiftDay(year: number, month: number, day: number, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function shiftMonth(year: number, month: number, months: number): { year: number; month: number } {
  const index = year * 12 + (month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** Start of the local calendar day containing `at`, shifted by `days` days. */
export function startOfLocalDay(at: Date, timeZone: string, days = 0): Date {
  const l = localTime(at, timeZone);
  const d = shiftDay(l.year, l.month, l.day, days);
  return zonedTime(timeZone, d.year, d.month, d.day);
}

/** Start of the local calendar month containing `at`, shifted by `months` months. */
export function startOfLocalMonth(at: Date, timeZone: string, months = 0): Date {
  const l = localTime(at, timeZone);
  const m = shiftMonth(l.year, l.month, months);
  return zonedTime(timeZone, m.year, m.month, 1);
}

const HOUR_MS = 3_600_000;
const floorHour = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS;
const ceilHour = (t: number): number => Math.ceil(t / HOUR_MS) * HOUR_MS;

/** Most buckets one report may hold. */
export const MAX_BUCKETS: Record<Granularity, number> = { hour: 24 * 93, day: 3_660, month: 600 };

/** The default range of a granularity: the last 24 hours, the last 30 local days or the last 12 local months, up to now. */
export function defaultRange(granularity: Granularity, now: Date, timeZone: string): { from: Date; to: Date } {
  switch (granularity) {
    case 'hour': {
      const to = floorHour(now.getTime()) + HOUR_MS;
      return { from: new Date(to - 24 * HOUR_MS), to: new Date(to) };
    }
    case 'day':
      return { from: startOfLocalDay(now, timeZone, -29), to: startOfLocalDay(now, timeZone, 1) };
    case 'month':
      return { from: startOfLocalMonth(now, timeZone, -11), to: startOfLocalMonth(now, timeZone, 1) };
  }
}

/** The same length of range as `defaultRange`, ending at `to`. */
function rangeEndingAt(granularity: Granularity, to: Date, timeZone: string): Date {
  const last = new Date(to.getTime() - 1);
  switch (granularity) {
    case 'hour':
      return new Date(to.getTime() - 24 * HOUR_MS);
    case 'day':
      return startOfLocalDay(last, timeZone, -29);
    case 'month':
      return startOfLocalMonth(last, timeZone, -11);
  }
}

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A range bound: an RFC 3339 time, or a date `YYYY-MM-DD` meaning local midnight in the time zone. */
export function parseBound(text: string, timeZone: string, name: string): Date {
  const fail = () => invalid('invalid_time', `${name} ${JSON.stringify(text)} is not an RFC 3339 time or a date YYYY-MM-DD`);
  const m = LOCAL_DATE.exec(text);
  if (!m) {
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) throw fail();
    return at;
  }
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() + 1 !== month || check.getUTCDate() !== day) throw fail();
  return zonedTime(timeZone, year, month, day);
}

/**
 * The range of a report. Missing bounds take the defaults. Hourly reports widen their bounds to whole UTC hours.
 * An hourly usage row counts where the start of its hour falls (in zones offset by a fraction of an hour, the row
 * spanning local midnight counts on the earlier day).
 */
export function resolveRange(granularity: Granularity, now: Date, timeZone: string, bounds: { from?: string; to?: string }): { from: Date; to: Date } {
  const to = bounds.to !== undefined ? parseBound(bounds.to, timeZone, 'to') : defaultRange(granularity, now, timeZone).to;
  const from = bounds.from !== undefined ? parseBound(bounds.from, timeZone, 'from') : rangeEndingAt(granularity, to, timeZone);
  const range = granularity === 'hour' ? { from: new Date(floorHour(from.getTime())), to: new Date(ceilHour(to.getTime())) } : { from, to };
  if (range.from >= range.to) {
    throw invalid('invalid_time_range', `from (${range.from.toISOString()}) must be before to (${range.to.toISOString()})`);
  }
  return range;
}

/** The buckets of a range: UTC hours, or local days or months of the time zone, the first and last clipped to the range. */
export function planBuckets(granularity: Granularity, range: { from: Date; to: Date }, timeZone: string): Omit<UsageBucket, keyof UsageTotals>[] {
  const out: Omit<UsageBucket, keyof UsageTotals>[] = [];
  const from = range.from.getTime();
  const to = range.to.getTime();
  const push = (start: number, end: number, label: string) => {
    if (out.length >= MAX_BUCKETS[granularity]) {
      throw invalid('range_too_large', `a ${granularity} report holds at most ${MAX_BUCKETS[granularity]} buckets; narrow from/to or use a coarser granularity`);
    }
    out.push({ start: new Date(Math.max(start, from)), end: new Date(Math.min(end, to)), label });
  };
  if (granularity === 'hour') {
    for (let t = floorHour(from); t < to; t += HOUR_MS) {
      const l = localTime(new Date(t), timeZone);
      push(t, t + HOUR_MS, `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}`);
    }
    return out;
  }
  const first = localTime(range.from, timeZone);
  if (granularity === 'day') {
    for (let i = 0; ; i++) {
      const d = shiftDay(first.year, first.month, first.day, i);
      const start = zonedTime(timeZone, d.year, d.month, d.day).getTime();
      if (start >= to) break;
      const next = shiftDay(d.year, d.month, d.day, 1);
      push(start, zonedTime(timeZone, next.year, next.month, next.day).getTime(), `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`);
    }
    return out;
  }
  for (let i = 0; ; i++) {
    const m = shiftMonth(first.year, first.month, i);
    const start = zonedTime(timeZone, m.year, m.month, 1).getTime();
    if (start >= to) break;
    const next = shiftMonth(m.year, m.month, 1);
    push(start, zonedTime(timeZone, next.year, next.month, 1).getTime(), `${pad(m.year, 4)}-${pad(m.month)}`);
  }
  return out;
}

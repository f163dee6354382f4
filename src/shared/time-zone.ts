import { Interned } from './interned.ts';

/** True when `value` is an IANA time zone name this runtime knows (e.g. Asia/Shanghai). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Every UTC offset in use is a whole number of quarter hours, so the local date can change only at the edge of a
 * UTC quarter hour: the date of each quarter hour is worked out once and kept (the hot path asks once per accounting
 * packet or CDR record). The cache of a time zone is emptied when it holds a year of quarter hours.
 */
const SLOT_MS = 900_000;
const SLOTS_KEPT = 366 * 96;
const slotDates = new Map<string, Map<number, string>>();

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  const slot = Math.floor(at.getTime() / SLOT_MS);
  let dates = slotDates.get(timeZone);
  const known = dates?.get(slot);
  if (known !== undefined) return known;
  let f = dayFormatters.get(timeZone);
  if (!f) dayFormatters.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const date = f.format(at);
  if (!dates) slotDates.set(timeZone, (dates = new Map<number, string>()));
  else if (dates.size >= SLOTS_KEPT) dates.clear();
  dates.set(slot, date);
  return date;
}

const months = new Interned(4096);

/**
 * The calendar month (YYYY-MM) of an instant in a time zone: one string object per month, not one per call (the
 * balance of every SIM holds its cycle).
 */
export const localMonth = (at: Date, timeZone: string): string => months.of(localDate(at, timeZone).slice(0, 7));

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
 * UTC quarter hour: within one, the date found last is reused (the hot path asks once per accounting packet).
 */
const SLOT_MS = 900_000;
const lastDate = new Map<string, { slot: number; date: string }>();

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  const slot = Math.floor(at.getTime() / SLOT_MS);
  const last = lastDate.get(timeZone);
  if (last?.slot === slot) return last.date;
  let f = dayFormatters.get(timeZone);
  if (!f) dayFormatters.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const date = f.format(at);
  if (last) Object.assign(last, { slot, date });
  else lastDate.set(timeZone, { slot, date });
  return date;
}

/** The calendar month (YYYY-MM) of an instant in a time zone. */
export const localMonth = (at: Date, timeZone: string): string => localDate(at, timeZone).slice(0, 7);

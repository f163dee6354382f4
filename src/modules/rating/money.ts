/**
 * Exact money. Amounts are safe integers, never floating point:
 * - **micros** (`…Micros`): millionths of the major unit (1 CNY = 1,000,000 micros). Prices, rates and rated
 *   charges are kept in micros, fine enough for per-KB rates.
 * - **minor units** (`…Minor`): the smallest unit of the currency (fen for CNY). Bill lines, orders and invoices are
 *   in minor units.
 *
 * Rounding rule (the only one): a bill line is the exact sum of its micros, rounded once, half up (half away from
 * zero for negative adjustments) to the minor unit (`lineAmountMinor`). A rated charge is rounded the same way from
 * its exact rational value to the micro (`mulDivHalfUp`). Pure, no I/O, no Intl.
 */
import { invalid } from '../../shared/errors.ts';

export const MICROS_PER_UNIT = 1_000_000;

/** Digits after the decimal point of the minor unit, per ISO 4217 currency this platform bills in. */
export const CURRENCY_DIGITS: Readonly<Record<string, number>> = {
  CNY: 2,
  HKD: 2,
  MOP: 2,
  TWD: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  SGD: 2,
  JPY: 0,
  KRW: 0,
};

export const DEFAULT_CURRENCY = 'CNY';

/** Minor-unit digits of a currency; throws `unknown_currency` for one the platform does not bill in. */
export function currencyDigits(currency: string): number {
  const digits = CURRENCY_DIGITS[currency];
  if (digits === undefined) {
    throw invalid('unknown_currency', `currency ${JSON.stringify(currency)} is not supported; supported: ${Object.keys(CURRENCY_DIGITS).join(', ')}`);
  }
  return digits;
}

/** Micros in one minor unit of the currency (10,000 for CNY). */
export function microsPerMinor(currency: string): number {
  return 10 ** (6 - currencyDigits(currency));
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * A decimal string (`3.35`, `-0.5`, `1087.99`, `12`) as an integer with `digits` decimal places, exactly. More
 * fractional digits than `digits` are an error unless they are zeros: a price is never silently rounded. `what`
 * names the value in the error message.
 */
export function parseDecimal(text: string, digits: number, what = 'amount'): number {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw invalid('invalid_amount', `${what} ${JSON.stringify(text)} is not a decimal number such as 3.35`);
  const [, minus, whole, fraction = ''] = m;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > digits) {
    throw invalid('invalid_amount', `${what} ${JSON.stringify(text)} has more than ${digits} decimal place(s)`);
  }
  const value = Number(whole!) * 10 ** digits + (significant ? Number(significant.padEnd(digits, '0')) : 0);
  if (!Number.isSafeInteger(value) || !Number.isSafeInteger(Number(whole!) * 10 ** digits)) {
    throw invalid('invalid_amount', `${what} ${JSON.stringify(text)} is too large`);
  }
  return minus && value !== 0 ? -value : value;
}

/** A decimal string in the major unit (`3.35` CNY) as minor units (335). */
export const parseMinor = (text: string, currency: string = DEFAULT_CURRENCY, what?: string): number =>
  parseDecimal(text, currencyDigits(currency), what);

/** A decimal string in the major unit (`0.000123`) as micros (123). */
export const parseMicros = (text: string, what?: string): number => parseDecimal(text, 6, what);

/** Minor units as micros (exact). */
export function minorToMicros(minor: number, currency: string = DEFAULT_CURRENCY): number {
  const micros = minor * microsPerMinor(currency);
  if (!Number.isSafeInteger(micros)) throw new RangeError(`${minor} minor units are beyond the exact range`);
  return micros;
}

/** `n / d` rounded half away from zero, for safe integers `n` and `d > 0`. */
export function divHalfUp(n: number, d: number): number {
  const abs = Math.abs(n);
  const q = Math.floor(abs / d);
  const r = abs - q * d;
  const rounded = r * 2 >= d ? q + 1 : q;
  return n < 0 && rounded !== 0 ? -rounded : rounded;
}

/**
 * The rounding rule: micros rounded half up (half away from zero) to the minor unit of the currency. Applied once per
 * bill line to the exact sum of the line's rated charges.
 */
export function roundToMinor(micros: number, currency: string = DEFAULT_CURRENCY): number {
  return divHalfUp(micros, microsPerMinor(currency));
}

/** The amount of a bill line in minor units: the exact sum of its charges in micros, rounded once (`roundToMinor`). */
export function lineAmountMinor(chargesMicros: readonly number[], currency: string = DEFAULT_CURRENCY): number {
  let sum = 0;
  for (const c of chargesMicros) sum += c;
  if (!Number.isSafeInteger(sum)) throw new RangeError('bill line total is beyond the exact range');
  return roundToMinor(sum, currency);
}

/**
 * `a × b / d` rounded half up, exactly, for non-negative safe integers with `d > 0` (e.g. bytes × micros per MB /
 * bytes per MB). Stays in plain numbers while the intermediate products are exact and falls back to BigInt only for
 * products beyond 2^53.
 */
export function mulDivHalfUp(a: number, b: number, d: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return divHalfUp(product, d);
  // a × b / d = hi × b + lo × b / d with a = hi × d + lo.
  const hi = Math.floor(a / d);
  const lo = a - hi * d;
  const head = hi * b;
  const tail = lo * b;
  if (head <= Number.MAX_SAFE_INTEGER && tail <= Number.MAX_SAFE_INTEGER) {
    const result = head + divHalfUp(tail, d);
    if (Number.isSafeInteger(result)) return result;
  }
  const big = BigInt(a) * BigInt(b);
  const bd = BigInt(d);
  const q = big / bd;
  const result = Number((big - q * bd) * 2n >= bd ? q + 1n : q);
  if (!Number.isSafeInteger(result)) throw new RangeError(`${a} × ${b} / ${d} is beyond the exact range`);
  return result;
}

/** `a × b / d` rounded down, exactly, for non-negative safe integers with `d > 0`. */
export function mulDivFloor(a: number, b: number, d: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / d);
  const result = Number((BigInt(a) * BigInt(b)) / BigInt(d));
  if (!Number.isSafeInteger(result)) throw new RangeError(`${a} × ${b} / ${d} is beyond the exact range`);
  return result;
}

function fixed(value: number, digits: number): string {
  const sign = value < 0 ? '-' : '';
  const digitsText = String(Math.abs(value)).padStart(digits + 1, '0');
  if (digits === 0) return sign + digitsText;
  return `${sign}${digitsText.slice(0, -digits)}.${digitsText.slice(-digits)}`;
}

/** Minor units as a plain decimal string in the major unit: 335 → `3.35`, -5 → `-0.05` (for CSV, API, invoices). */
export const formatMinor = (minor: number, currency: string = DEFAULT_CURRENCY): string => fixed(minor, currencyDigits(currency));

/**
 * Micros as a decimal string with as many places as needed, and at least the currency's: 3_350_000 → `3.35`,
 * 123 → `0.000123` (for rates and unrounded charges).
 */
export function formatMicros(micros: number, currency: string = DEFAULT_CURRENCY): string {
  const text = fixed(micros, 6);
  const keep = currencyDigits(currency);
  const point = text.indexOf('.');
  let end = text.length;
  while (end > point + 1 + keep && text[end - 1] === '0') end--;
  return text.slice(0, keep === 0 && end === point + 1 ? point : end);
}

/** Minor units for people to read: `CNY 1,234.50`. */
export function formatMoney(minor: number, currency: string = DEFAULT_CURRENCY): string {
  const text = formatMinor(minor, currency);
  const sign = text.startsWith('-') ? '-' : '';
  const body = sign ? text.slice(1) : text;
  const point = body.indexOf('.');
  const whole = point < 0 ? body : body.slice(0, point);
  let grouped = '';
  for (let i = 0; i < whole.length; i++) {
    if (i > 0 && (whole.length - i) % 3 === 0) grouped += ',';
    grouped += whole[i];
  }
  return `${currency} ${sign}${grouped}${point < 0 ? '' : body.slice(point)}`;
}

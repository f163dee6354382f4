/**
 * Priced top-up products (加油包): what an operator or reseller sells to add data to a SIM. A product valid 1 month
 * lasts to the end of the cycle it is bought in ("next month back to zero"); one valid N months lasts N months
 * counting that one. Pure, no I/O.
 */
import { invalid } from '../../shared/errors.ts';
import { currencyDigits, DEFAULT_CURRENCY, microsPerMinor } from './money.ts';
import { MB, GB } from './rate-plan.ts';
import { MAX_TOP_UP_BYTES } from './top-up.service.ts';

export interface TopUpProduct {
  id: string;
  /** The account that sells it; visible from that account, the accounts below it and above it. */
  accountId: string;
  name: string;
  bytes: number;
  /** 1: to the end of the current cycle; N: N months counting the current one. */
  validMonths: number;
  priceMicros: number;
  currency: string;
  /** Inactive products stay on old orders but cannot be bought. */
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type TopUpProductInput = Pick<TopUpProduct, 'id' | 'name' | 'bytes' | 'validMonths' | 'priceMicros'> & { currency?: string };

export const MAX_VALID_MONTHS = 120;
const ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Every problem of a product's terms; empty when it is valid. */
export function topUpProductProblems(p: Omit<TopUpProductInput, 'currency'> & { currency: string }): string[] {
  const problems: string[] = [];
  if (!ID.test(p.id)) problems.push(`id ${JSON.stringify(p.id)} must be 1-64 letters, digits, '_', '.' or '-'`);
  if (!p.name.trim() || p.name.length > 200) problems.push('name must be 1-200 characters');
  if (!Number.isSafeInteger(p.bytes) || p.bytes < 1 || p.bytes > MAX_TOP_UP_BYTES) problems.push(`bytes must be a whole number from 1 to ${MAX_TOP_UP_BYTES} (got ${p.bytes})`);
  if (!Number.isSafeInteger(p.validMonths) || p.validMonths < 1 || p.validMonths > MAX_VALID_MONTHS) {
    problems.push(`validMonths must be a whole number from 1 (to the end of the cycle) to ${MAX_VALID_MONTHS} (got ${p.validMonths})`);
  }
  try {
    currencyDigits(p.currency);
    if (!Number.isSafeInteger(p.priceMicros) || p.priceMicros < 0) problems.push(`price must be a non-negative amount (got ${p.priceMicros} micros)`);
    else if (p.priceMicros % microsPerMinor(p.currency) !== 0) problems.push(`price must be a whole number of the currency's minor unit (${p.currency} has ${currencyDigits(p.currency)} decimal places)`);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

/** Checks a product's terms; throws `invalid_top_up_product` naming every problem. */
export function checkTopUpProduct(p: Omit<TopUpProductInput, 'currency'> & { currency: string }): void {
  const problems = topUpProductProblems(p);
  if (problems.length) throw invalid('invalid_top_up_product', problems.join('; '), { problems });
}

/** The validity of a product in words: "to the end of the cycle" or "3 months". */
export const validityText = (validMonths: number): string => (validMonths === 1 ? 'to the end of the cycle' : `${validMonths} months`);

/** The sample top-up products loaded with the sample catalogue (CNY, sold by the operator). */
export const SAMPLE_TOP_UP_PRODUCTS: readonly Required<TopUpProductInput>[] = Object.freeze([
  { id: 'topup-100mb', name: '加油包 100 MB (to the end of the cycle)', bytes: 100 * MB, validMonths: 1, priceMicros: 5_000_000, currency: DEFAULT_CURRENCY },
  { id: 'topup-500mb', name: '加油包 500 MB (to the end of the cycle)', bytes: 500 * MB, validMonths: 1, priceMicros: 15_000_000, currency: DEFAULT_CURRENCY },
  { id: 'topup-1gb', name: '加油包 1 GB (to the end of the cycle)', bytes: GB, validMonths: 1, priceMicros: 25_000_000, currency: DEFAULT_CURRENCY },
  { id: 'topup-3gb-3m', name: '加油包 3 GB (3 months)', bytes: 3 * GB, validMonths: 3, priceMicros: 60_000_000, currency: DEFAULT_CURRENCY },
]);

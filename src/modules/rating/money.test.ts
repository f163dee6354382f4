import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currencyDigits,
  divHalfUp,
  formatMicros,
  formatMinor,
  formatMoney,
  lineAmountMinor,
  microsPerMinor,
  minorToMicros,
  mulDivFloor,
  mulDivHalfUp,
  parseDecimal,
  parseMicros,
  parseMinor,
  roundToMinor,
} from './money.ts';
import { codeOf } from '../../../test/support/errors.ts';

describe('parsing decimal prices', () => {
  it('reads the catalogue prices exactly, including those floating point gets wrong', () => {
    expect(parseMinor('3.35')).toBe(335);
    expect(parseMinor('1087.99')).toBe(108799);
    expect(parseMinor('0.29')).toBe(29); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(parseMinor('1.1')).toBe(110);
    expect(parseMinor('12')).toBe(1200);
    expect(parseMinor(' 94.00 ')).toBe(9400);
    expect(parseMicros('3.35')).toBe(3_350_000);
    expect(parseMicros('0.000123')).toBe(123);
    expect(parseDecimal('0.30', 1)).toBe(3);
  });

  it('reads negative amounts and a minus zero as zero', () => {
    expect(parseMinor('-0.05')).toBe(-5);
    expect(Object.is(parseMinor('-0.00'), 0)).toBe(true);
  });

  it('refuses to round: more decimal places than the unit holds is an error', () => {
    expect(codeOf(() => parseMinor('3.355'))).toBe('invalid_amount');
    expect(parseMinor('3.350')).toBe(335);
    expect(codeOf(() => parseMicros('0.0000001'))).toBe('invalid_amount');
    expect(codeOf(() => parseMinor('5', 'JPY'))).toBeUndefined();
    expect(codeOf(() => parseMinor('5.5', 'JPY'))).toBe('invalid_amount');
  });

  it('refuses what is not a plain decimal number', () => {
    for (const bad of ['', '.5', '3.', '1e3', '3,35', '¥3.35', '+1', 'NaN', '1.2.3', '0x10']) {
      expect(codeOf(() => parseMinor(bad)), bad).toBe('invalid_amount');
    }
    expect(codeOf(() => parseMicros('99999999999.000001'))).toBe('invalid_amount');
  });

  it('names the value in the message', () => {
    expect(() => parseMinor('abc', 'CNY', 'monthly fee')).toThrow(/monthly fee "abc"/);
  });

  it('knows the minor unit of each supported currency and refuses others', () => {
    expect(currencyDigits('CNY')).toBe(2);
    expect(microsPerMinor('CNY')).toBe(10_000);
    expect(microsPerMinor('JPY')).toBe(1_000_000);
    expect(codeOf(() => currencyDigits('XXX'))).toBe('unknown_currency');
  });

  it('round-trips through formatting', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (minor) => {
        expect(parseMinor(formatMinor(minor))).toBe(minor);
        expect(parseMicros(formatMicros(minor * 37))).toBe(minor * 37);
      }),
    );
  });
});

describe('the rounding rule', () => {
  it('rounds half up to the minor unit, and half away from zero for negative amounts', () => {
    expect(roundToMinor(3_354_999)).toBe(335);
    expect(roundToMinor(3_355_000)).toBe(336);
    expect(roundToMinor(5_000)).toBe(1);
    expect(roundToMinor(4_999)).toBe(0);
    expect(roundToMinor(-5_000)).toBe(-1);
    expect(roundToMinor(-4_999)).toBe(0);
    expect(roundToMinor(1_500_000, 'JPY')).toBe(2);
  });

  it('rounds a bill line once, from the exact sum of its charges', () => {
    // Three charges of 0.4 fen each: per charge they would round to nothing; the line is 1 fen.
    expect(lineAmountMinor([4_000, 4_000, 4_000])).toBe(1);
    expect(lineAmountMinor([])).toBe(0);
    expect(lineAmountMinor([19_150_000, 33_360_000])).toBe(5251);
  });

  it('never moves an amount by more than half a minor unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e14, max: 1e14 }), (micros) => {
        const minor = roundToMinor(micros);
        expect(Math.abs(minor * 10_000 - micros)).toBeLessThanOrEqual(5_000);
        expect(minorToMicros(minor)).toBe(minor * 10_000);
      }),
    );
  });

  it('divides half up', () => {
    expect(divHalfUp(7, 2)).toBe(4);
    expect(divHalfUp(5, 3)).toBe(2);
    expect(divHalfUp(4, 3)).toBe(1);
    expect(divHalfUp(-7, 2)).toBe(-4);
  });
});

describe('exact products', () => {
  const MB = 1_048_576;

  it('prices bytes at a rate per MB exactly, also beyond 2^53 intermediate products', () => {
    expect(mulDivHalfUp(MB, 1_000_000, MB)).toBe(1_000_000);
    expect(mulDivHalfUp(512 * 1024, 1_000_000, MB)).toBe(500_000);
    expect(mulDivHalfUp(1, 1_000_000, MB)).toBe(1); // 0.95 micro rounds up
    expect(mulDivHalfUp(1, 500_000, MB)).toBe(0);
    const tenTb = 10 * 1024 ** 4;
    expect(mulDivHalfUp(tenTb, 3_350_000, MB)).toBe(10 * 1024 * 1024 * 3_350_000);
  });

  it('agrees with BigInt arithmetic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 50_000_000 }), fc.integer({ min: 1, max: 2 ** 30 }), (a, b, d) => {
        const big = BigInt(a) * BigInt(b);
        const q = big / BigInt(d);
        const expected = (big - q * BigInt(d)) * 2n >= BigInt(d) ? q + 1n : q;
        if (expected > BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(() => mulDivHalfUp(a, b, d)).toThrow(RangeError);
          return;
        }
        expect(mulDivHalfUp(a, b, d)).toBe(Number(expected));
        expect(mulDivFloor(a, b, d)).toBe(Number(q));
      }),
    );
  });
});

describe('formatting', () => {
  it('writes plain decimals for files and APIs', () => {
    expect(formatMinor(335)).toBe('3.35');
    expect(formatMinor(5)).toBe('0.05');
    expect(formatMinor(-5)).toBe('-0.05');
    expect(formatMinor(0)).toBe('0.00');
    expect(formatMinor(1200, 'JPY')).toBe('1200');
  });

  it('writes micros with the places they need', () => {
    expect(formatMicros(3_350_000)).toBe('3.35');
    expect(formatMicros(123)).toBe('0.000123');
    expect(formatMicros(1_000_000)).toBe('1.00');
    expect(formatMicros(1_500_000, 'JPY')).toBe('1.5');
    expect(formatMicros(2_000_000, 'JPY')).toBe('2');
    expect(formatMicros(-10)).toBe('-0.00001');
  });

  it('groups thousands for people', () => {
    expect(formatMoney(123_450)).toBe('CNY 1,234.50');
    expect(formatMoney(-100_000_000)).toBe('CNY -1,000,000.00');
    expect(formatMoney(99)).toBe('CNY 0.99');
    expect(formatMoney(1_234_567, 'JPY')).toBe('JPY 1,234,567');
  });
});

import { describe, expect, it } from 'vitest';
import { isLuhnValid, luhnCheckDigit } from './luhn.ts';

describe('Luhn check digit', () => {
  it('accepts known-good numbers and rejects a changed digit', () => {
    expect(isLuhnValid('79927398713')).toBe(true);
    expect(isLuhnValid('79927398710')).toBe(false);
    expect(isLuhnValid('490154203237518')).toBe(true); // an IMEI
    expect(isLuhnValid('89860012345678901234'.slice(0, 19) + luhnCheckDigit('8986001234567890123'))).toBe(true);
  });
  it('rejects non-digits and too-short input', () => {
    expect(isLuhnValid('7992739871a')).toBe(false);
    expect(isLuhnValid('0')).toBe(false);
    expect(isLuhnValid('')).toBe(false);
  });
});

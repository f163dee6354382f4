import { describe, expect, it } from 'vitest';
import { cycleOfMonth } from '../rating/billing-cycle.ts';
import { memberAllowanceBytes } from './wholesale.ts';

describe('a member’s part of a wholesale pool', () => {
  it('is the whole allowance before the cycle, and the days from joining on, rounded down, within it', () => {
    const april = cycleOfMonth('2026-04');
    expect(memberAllowanceBytes(30_000, null, april)).toBe(30_000);
    expect(memberAllowanceBytes(30_000, 16, april)).toBe(15_000);
    expect(memberAllowanceBytes(30_000, 1, april)).toBe(30_000);
    expect(memberAllowanceBytes(100, 30, april)).toBe(3);
  });
});

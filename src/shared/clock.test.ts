import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.ts';

describe('systemClock', () => {
  it('hands out one Date per millisecond', () => {
    let previous = systemClock.now();
    let shared = 0;
    for (let i = 0; i < 5_000; i++) {
      const now = systemClock.now();
      if (now.getTime() === previous.getTime()) {
        expect(now).toBe(previous);
        shared++;
      }
      previous = now;
    }
    expect(shared).toBeGreaterThan(0);
    expect(Math.abs(systemClock.now().getTime() - Date.now())).toBeLessThanOrEqual(1);
  });
});

describe('ManualClock', () => {
  it('moves only when told to', () => {
    const clock = new ManualClock('2026-12-02T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(clock.advance(1500).toISOString()).toBe('2026-12-02T00:00:01.500Z');
    clock.set('2027-01-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

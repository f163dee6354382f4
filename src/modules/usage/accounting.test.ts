import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accessDecision } from './access.ts';
import { counterDelta, nextConnectionState, usageDelta } from './accounting.ts';

describe('accounting deltas', () => {
  it('counts the growth of a cumulative counter once', () => {
    expect(counterDelta(100, 250, true)).toEqual({ delta: 150, next: 250 });
    expect(counterDelta(250, 250, true)).toEqual({ delta: 0, next: 250 });
  });
  it('adds nothing for an older packet arriving late', () => {
    expect(counterDelta(250, 100, true)).toEqual({ delta: 0, next: 250 });
    expect(counterDelta(250, 100, false)).toEqual({ delta: 0, next: 250 });
  });
  it('handles a 32-bit wrap when the gateway sends no gigawords', () => {
    expect(counterDelta(2 ** 32 - 10, 5, false)).toEqual({ delta: 15, next: 5 });
    expect(counterDelta(2 ** 32 - 10, 5, true)).toEqual({ delta: 0, next: 2 ** 32 - 10 });
  });
  it('sums of deltas equal the final counter whatever the order and repetition of packets', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 80 }), (steps, shuffle) => {
        const counters: number[] = [];
        let total = 0;
        for (const s of steps) counters.push((total += s));
        const packets = [...counters];
        for (const k of shuffle) packets.splice(k % (packets.length + 1), 0, counters[k % counters.length]!);
        packets.push(counters.at(-1)!);
        let last = { bytesIn: 0, bytesOut: 0 };
        let sum = 0;
        for (const c of packets) {
          const r = usageDelta(last, { bytesIn: c, bytesOut: 0, hasGigawords: true });
          expect(r.delta.bytesIn).toBeGreaterThanOrEqual(0);
          sum += r.delta.bytesIn;
          last = r.next;
        }
        expect(sum).toBe(total);
      }),
    );
  });
  it('moves the connection state Start -> Alive -> Stop and never back', () => {
    expect(nextConnectionState(null, 'start')).toBe('start');
    expect(nextConnectionState('start', 'interim')).toBe('alive');
    expect(nextConnectionState('alive', 'stop')).toBe('stop');
    expect(nextConnectionState('stop', 'interim')).toBe('stop');
    expect(nextConnectionState(null, 'interim')).toBe('alive');
  });
});

describe('access decisions', () => {
  it('lets test, silent and active SIMs connect and names the reason otherwise', () => {
    for (const state of ['test', 'silent', 'active'] as const) expect(accessDecision({ state, suspendReason: null })).toEqual({ accept: true });
    expect(accessDecision(undefined)).toEqual({ accept: false, reason: 'unknown SIM' });
    expect(accessDecision({ state: 'suspended', suspendReason: 'quota' })).toEqual({ accept: false, reason: 'SIM suspended (quota)' });
    expect(accessDecision({ state: 'retired', suspendReason: null })).toEqual({ accept: false, reason: 'SIM retired' });
    expect(accessDecision({ state: 'inventory', suspendReason: null })).toMatchObject({ accept: false });
  });
});

import { describe, expect, it } from 'vitest';
import { newId } from './ids.ts';

describe('newId', () => {
  it('gives a prefix, nine base-36 time digits and sixteen hex digits, never the same twice', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('evt'));
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^evt_[0-9a-z]{9}[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // NOTE: 20,000 ids use the random pool up several times over; its refills must not repeat it.
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
  });

  it('sorts by creation time', () => {
    const earlier = newId('acc');
    const later = `acc_${(Date.now() + 1000).toString(36).padStart(9, '0')}${'0'.repeat(16)}`;
    expect(earlier < later).toBe(true);
  });
});

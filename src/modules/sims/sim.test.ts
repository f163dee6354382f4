import { describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../shared/luhn.ts';
import { applyUpdate, checkIccid, checkImei, checkTransition, SIM_STATES, type SimAttributes, stateDueAt, TRANSITIONS } from './sim.ts';

const iccid = (payload: string) => `${payload}${luhnCheckDigit(payload)}`;

describe('lifecycle state machine', () => {
  it('allows exactly the transitions of the table and names the allowed targets otherwise', () => {
    for (const from of SIM_STATES) {
      for (const to of SIM_STATES) {
        const check = checkTransition(from, to);
        if (from === to) expect(check).toMatchObject({ ok: false, code: 'unchanged' });
        else if (TRANSITIONS[from].includes(to)) expect(check.ok).toBe(true);
        else {
          expect(check).toMatchObject({ ok: false, code: 'illegal_transition' });
          if (!check.ok) expect(check.message).toContain(`allowed from ${from}`);
        }
      }
    }
  });
  it('makes retired terminal and lets every other state be left', () => {
    expect(TRANSITIONS.retired).toEqual([]);
    for (const s of SIM_STATES.filter((x) => x !== 'retired')) expect(TRANSITIONS[s].length).toBeGreaterThan(0);
  });
  it('computes when the automatic transition is due', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const periods = { testPeriodDays: 90, silentPeriodDays: 60, deactivatedRetireDays: 365 };
    expect(stateDueAt('test', now, periods)?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(stateDueAt('silent', now, periods, 10)?.toISOString()).toBe('2026-01-11T00:00:00.000Z');
    expect(stateDueAt('deactivated', now, periods)?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(stateDueAt('active', now, periods)).toBeNull();
  });
});

describe('identifiers', () => {
  it('checks ICCID length, digits and check digit', () => {
    expect(checkIccid(iccid('898600123456789012'))).toEqual({ ok: true });
    expect(checkIccid(iccid('8986001234567890123'))).toEqual({ ok: true });
    expect(checkIccid('89860012345678')).toMatchObject({ ok: false, code: 'invalid_iccid_length' });
    expect(checkIccid('8986001234567890123x')).toMatchObject({ ok: false, code: 'invalid_iccid' });
    const good = iccid('8986001234567890123');
    const bad = `${good.slice(0, -1)}${(Number(good.at(-1)) + 1) % 10}`;
    expect(checkIccid(bad)).toMatchObject({ ok: false, code: 'invalid_iccid_check_digit' });
  });
  it('checks IMEI digits and check digit', () => {
    expect(checkImei('490154203237518')).toEqual({ ok: true });
    expect(checkImei('490154203237519')).toMatchObject({ ok: false, code: 'invalid_imei_check_digit' });
    expect(checkImei('4901542032375')).toMatchObject({ ok: false, code: 'invalid_imei' });
  });
});

describe('attribute updates', () => {
  const current: SimAttributes = { accountId: 'a', groupId: 'g1', labels: ['x'], customFields: { k: 'v' }, deviceName: null, imei: null, planId: null };
  it('lists one change per changed field and none for a no-op', () => {
    const out = applyUpdate('i', current, { addLabels: ['y', 'x'], customFields: { k: null, n: '1' } });
    expect(out.ok && out.changes.map((c) => c.field)).toEqual(['labels', 'custom_fields.k', 'custom_fields.n']);
    const none = applyUpdate('i', current, { labels: ['x'] });
    expect(none.ok && none.changes).toEqual([]);
  });
  it('clears the group when the SIM moves to another account, and refuses a group of another account', () => {
    const moved = applyUpdate('i', current, { accountId: 'b' });
    expect(moved.ok && moved.next.groupId).toBeNull();
    const wrong = applyUpdate('i', current, { group: { id: 'g2', accountId: 'z' } });
    expect(wrong).toMatchObject({ ok: false, code: 'group_account_mismatch' });
  });
});

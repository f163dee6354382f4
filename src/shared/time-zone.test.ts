import { describe, expect, it } from 'vitest';
import { isTimeZone, localDate, localMonth } from './time-zone.ts';

const direct = (at: Date, timeZone: string): string => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

describe('localDate', () => {
  it('changes exactly at local midnight, also in zones a quarter or half hour off and across DST changes', () => {
    for (const zone of ['Asia/Shanghai', 'Asia/Kathmandu', 'Asia/Kolkata', 'Europe/Berlin', 'America/St_Johns', 'Pacific/Chatham', 'UTC']) {
      // Every minute of three days around the spring DST change in Europe, in shuffled order so cached answers are reused out of order.
      const start = Date.parse('2026-03-28T00:00:00Z');
      const minutes = Array.from({ length: 3 * 24 * 60 }, (_, i) => i);
      for (let i = minutes.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [minutes[i], minutes[j]] = [minutes[j]!, minutes[i]!];
      }
      for (const m of minutes) {
        const at = new Date(start + m * 60_000);
        expect(localDate(at, zone), `${zone} ${at.toISOString()}`).toBe(direct(at, zone));
      }
    }
  });

  it('gives the month and knows time zones', () => {
    expect(localDate(new Date('2026-01-31T16:00:00Z'), 'Asia/Shanghai')).toBe('2026-02-01');
    expect(localMonth(new Date('2026-01-31T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-01');
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

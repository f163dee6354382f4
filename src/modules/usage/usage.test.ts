import { describe, expect, it } from 'vitest';
import { defaultRange, localDate, localMonth, planBuckets, resolveRange, startOfLocalDay, startOfLocalMonth, toCount, zonedTime } from './usage.ts';
import { codeOf } from '../../../test/support/errors.ts';

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const at = (s: string) => new Date(s);
describe('calendar in a time zone', () => {
  it('puts 23:00 UTC on the next day in Asia/Shanghai', () => {
    expect(localDate(at('2026-01-14T23:00:00Z'), SH)).toBe('2026-01-15');
    expect(localDate(at('2026-01-14T15:59:59Z'), SH)).toBe('2026-01-14');
    expect(localMonth(at('2026-01-31T16:00:00Z'), SH)).toBe('2026-02');
  });

  it('finds local midnight and the start of the local month', () => {
    expect(zonedTime(SH, 2026, 1, 15)).toEqual(at('2026-01-14T16:00:00Z'));
    expect(startOfLocalDay(at('2026-01-15T02:00:00Z'), SH)).toEqual(at('2026-01-14T16:00:00Z'));
    expect(startOfLocalDay(at('2026-01-15T02:00:00Z'), SH, 1)).toEqual(at('2026-01-15T16:00:00Z'));
    expect(startOfLocalMonth(at('2026-01-15T02:00:00Z'), SH)).toEqual(at('2025-12-31T16:00:00Z'));
    expect(startOfLocalMonth(at('2026-01-15T02:00:00Z'), SH, -12)).toEqual(at('2024-12-31T16:00:00Z'));
    expect(startOfLocalMonth(at('2026-12-15T02:00:00Z'), SH, 1)).toEqual(at('2026-12-31T16:00:00Z'));
  });

  it('handles daylight saving time: 23- and 25-hour days, contiguous buckets', () => {
    expect(zonedTime(NY, 2026, 3, 8)).toEqual(at('2026-03-08T05:00:00Z'));
    expect(zonedTime(NY, 2026, 3, 9)).toEqual(at('2026-03-09T04:00:00Z'));
    const days = planBuckets('day', { from: zonedTime(NY, 2026, 3, 7), to: zonedTime(NY, 2026, 3, 10) }, NY);
    expect(days.map((d) => d.label)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09']);
    expect(days.map((d) => (d.end.getTime() - d.start.getTime()) / 3_600_000)).toEqual([24, 23, 24]);
    const autumn = planBuckets('day', { from: zonedTime(NY, 2026, 11, 1), to: zonedTime(NY, 2026, 11, 2) }, NY);
    expect((autumn[0]!.end.getTime() - autumn[0]!.start.getTime()) / 3_600_000).toBe(25);
    for (let i = 1; i < days.length; i++) expect(days[i]!.start).toEqual(days[i - 1]!.end);
  });

  it('labels hours in local time, also in zones offset by a fraction of an hour', () => {
    const hours = planBuckets('hour', { from: at('2026-01-14T22:00:00Z'), to: at('2026-01-15T00:00:00Z') }, 'Asia/Kolkata');
    expect(hours.map((h) => h.label)).toEqual(['2026-01-15T03:30', '2026-01-15T04:30']);
  });
});

describe('report ranges and buckets', () => {
  const now = at('2026-01-15T02:30:00Z'); // 10:30 in Shanghai

  it('defaults to the last 24 hours, 30 local days or 12 local months, ending with the current one', () => {
    const hour = defaultRange('hour', now, SH);
    expect(hour).toEqual({ from: at('2026-01-14T03:00:00Z'), to: at('2026-01-15T03:00:00Z') });
    expect(planBuckets('hour', hour, SH)).toHaveLength(24);
    const day = defaultRange('day', now, SH);
    expect(day).toEqual({ from: at('2025-12-16T16:00:00Z'), to: at('2026-01-15T16:00:00Z') });
    const days = planBuckets('day', day, SH);
    expect(days).toHaveLength(30);
    expect([days[0]!.label, days.at(-1)!.label]).toEqual(['2025-12-17', '2026-01-15']);
    const months = planBuckets('month', defaultRange('month', now, SH), SH);
    expect(months.map((m) => m.label)).toEqual([
      '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01',
    ]);
  });

  it('reads dates as local midnight and times as given; hourly ranges widen to whole hours', () => {
    expect(resolveRange('day', now, SH, { from: '2026-01-01', to: '2026-01-03' })).toEqual({ from: at('2025-12-31T16:00:00Z'), to: at('2026-01-02T16:00:00Z') });
    expect(resolveRange('hour', now, SH, { from: '2026-01-15T00:10:00Z', to: '2026-01-15T01:20:00Z' })).toEqual({
      from: at('2026-01-15T00:00:00Z'),
      to: at('2026-01-15T02:00:00Z'),
    });
    // 30 local days ending with 2026-01-10 (to is exclusive): 2025-12-12 to 2026-01-10.
    expect(resolveRange('day', now, SH, { to: '2026-01-11' }).from).toEqual(at('2025-12-11T16:00:00Z'));
  });

  it('clips the first and last bucket to the range', () => {
    const buckets = planBuckets('day', { from: at('2026-01-14T20:00:00Z'), to: at('2026-01-15T20:00:00Z') }, SH);
    expect(buckets.map((b) => [b.label, b.start.toISOString(), b.end.toISOString()])).toEqual([
      ['2026-01-15', '2026-01-14T20:00:00.000Z', '2026-01-15T16:00:00.000Z'],
      ['2026-01-16', '2026-01-15T16:00:00.000Z', '2026-01-15T20:00:00.000Z'],
    ]);
  });

  it('refuses impossible dates, empty ranges and too many buckets', () => {
    expect(codeOf(() => resolveRange('day', now, SH, { from: '2026-02-30' }))).toBe('invalid_time');
    expect(codeOf(() => resolveRange('day', now, SH, { from: 'yesterday' }))).toBe('invalid_time');
    expect(codeOf(() => resolveRange('day', now, SH, { from: '2026-01-10', to: '2026-01-10' }))).toBe('invalid_time_range');
    expect(codeOf(() => planBuckets('hour', { from: at('2025-01-01T00:00:00Z'), to: at('2026-01-01T00:00:00Z') }, SH))).toBe('range_too_large');
  });
});

describe('toCount', () => {
  it('normalises database counters to exact numbers', () => {
    expect(toCount('12345678901234')).toBe(12345678901234);
    expect(toCount(42)).toBe(42);
    expect(toCount(7n)).toBe(7);
    expect(toCount(null)).toBe(0);
  });

  it('refuses fractions and values past 2^53 instead of rounding', () => {
    expect(() => toCount('1.5')).toThrow();
    expect(() => toCount('9007199254740993')).toThrow();
    expect(() => toCount({})).toThrow();
  });
});

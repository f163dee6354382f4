import type { Insertable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageHourlyTable } from '../src/db/database.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

interface Totals {
  bytesIn: number;
  bytesOut: number;
  bytes: number;
  records: number;
}
interface Bucket extends Totals {
  start: string;
  end: string;
  label: string;
}
interface Report {
  subject: { kind: string; id: string };
  timezone: string;
  granularity: string;
  from: string;
  to: string;
  buckets: Bucket[];
  total: Totals;
  today: Totals & { date: string };
  thisCycle: Totals & { month: string };
}

const GB = 1_000_000_000;
// E1 (Asia/Shanghai) owns SIMs 1-3, A and B in group "fleet"; E2 (UTC, another reseller's subtree) owns SIM 4; the operator owns SIM 5.
const A = iccidFor(1);
const B = iccidFor(2);
const C = iccidFor(3);
const D = iccidFor(4);
const O = iccidFor(5);

describe.each(testDialects())('usage API on %s', (dialect) => {
  let t: TestPlatform;
  let r1: { accountId: string; key: string };
  let r2: { accountId: string; key: string };
  let e1: { accountId: string; key: string };
  let e2: { accountId: string; key: string };
  let groupId: string;

  const row = (iccid: string, accountId: string, hour: string, bytesIn: number, bytesOut: number, records = 1): Insertable<UsageHourlyTable> => ({
    iccid,
    account_id: accountId,
    hour,
    bytes_in: bytesIn,
    bytes_out: bytesOut,
    records,
  });
  const report = async (url: string, key?: string): Promise<Report> => {
    const res = await t.api('GET', url, undefined, key ? { key } : {});
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Report>();
  };
  const bucket = (r: Report, label: string): Bucket | undefined => r.buckets.find((b) => b.label === label);

  beforeAll(async () => {
    t = await startTestPlatform(dialect); // clock: 2026-01-15T02:00Z = 10:00 on 2026-01-15 in Shanghai
    r1 = await createTenant(t, 'reseller', 'R1');
    r2 = await createTenant(t, 'reseller', 'R2');
    e1 = await createTenant(t, 'enterprise', 'E1', { parentId: r1.accountId, key: r1.key });
    const e2Account = (await t.api('POST', '/api/v1/accounts', { kind: 'enterprise', name: 'E2', parentId: r2.accountId, timezone: 'UTC' })).json();
    const e2Key = (await t.api('POST', '/api/v1/api-keys', { accountId: e2Account.id, name: 'E2 key' })).json().secret;
    e2 = { accountId: e2Account.id, key: e2Key };
    groupId = (await t.api('POST', '/api/v1/groups', { name: 'fleet' }, { key: e1.key })).json().id;
    await t.api('POST', `/api/v1/sims/imports?accountId=${e1.accountId}`, simCsv(1, 3));
    await t.api('POST', `/api/v1/sims/imports?accountId=${e2.accountId}`, simCsv(4, 1));
    await t.api('POST', '/api/v1/sims/imports', simCsv(5, 1));
    await t.drainJobs();
    for (const iccid of [A, B]) await t.api('PATCH', `/api/v1/sims/${iccid}`, { groupId }, { key: e1.key });

    await t.platform.services.db
      .insertInto('usage_hourly')
      .values([
        // A: 23:00 UTC on the 14th is 07:00 on the 15th in Shanghai.
        row(A, e1.accountId, '2026-01-14T23:00:00Z', 3 * GB, 4 * GB, 40),
        row(A, e1.accountId, '2026-01-15T01:00:00Z', 100, 200, 2),
        row(A, e1.accountId, '2026-01-14T15:00:00Z', 10, 20, 1), // 23:00 on the 14th in Shanghai
        row(A, e1.accountId, '2025-12-31T17:00:00Z', 1000, 2000, 3), // 01:00 on 2026-01-01 in Shanghai: January
        row(A, e1.accountId, '2025-12-31T15:00:00Z', 5000, 6000, 4), // 23:00 on 2025-12-31 in Shanghai: December
        row(A, e1.accountId, '2025-06-10T04:00:00Z', 7, 8, 1),
        row(B, e1.accountId, '2026-01-15T00:00:00Z', 1, 2, 1),
        row(C, e1.accountId, '2026-01-15T00:00:00Z', 50, 60, 1),
        row(D, e2.accountId, '2026-01-14T23:00:00Z', 11, 22, 1), // still the 14th on UTC
        row(O, t.operatorAccountId, '2026-01-15T00:00:00Z', 9, 9, 1),
      ])
      .execute();
  });
  afterAll(() => t?.close());

  it('buckets a SIM\'s usage by local day: 23:00 UTC lands on the next day in Asia/Shanghai', async () => {
    const r = await report(`/api/v1/sims/${A}/usage?granularity=day`, e1.key);
    expect(r).toMatchObject({ subject: { kind: 'sim', id: A }, timezone: 'Asia/Shanghai', granularity: 'day', from: '2025-12-16T16:00:00.000Z', to: '2026-01-15T16:00:00.000Z' });
    expect(r.buckets).toHaveLength(30);
    expect(r.buckets[0]).toMatchObject({ label: '2025-12-17', start: '2025-12-16T16:00:00.000Z', end: '2025-12-17T16:00:00.000Z', bytes: 0, records: 0 });
    expect(bucket(r, '2026-01-15')).toEqual({
      label: '2026-01-15',
      start: '2026-01-14T16:00:00.000Z',
      end: '2026-01-15T16:00:00.000Z',
      bytesIn: 3 * GB + 100,
      bytesOut: 4 * GB + 200,
      bytes: 7 * GB + 300,
      records: 42,
    });
    expect(bucket(r, '2026-01-14')).toMatchObject({ bytesIn: 10, bytesOut: 20, bytes: 30, records: 1 });
    expect(bucket(r, '2026-01-01')).toMatchObject({ bytes: 3000 });
    expect(bucket(r, '2025-12-31')).toMatchObject({ bytes: 11000 });
    expect(r.total).toEqual({ bytesIn: 3 * GB + 6110, bytesOut: 4 * GB + 8220, bytes: 7 * GB + 14330, records: 50 });
    for (const b of r.buckets) for (const v of [b.bytesIn, b.bytesOut, b.bytes, b.records]) expect(Number.isSafeInteger(v)).toBe(true);
  });

  it('gives today and this cycle as the local calendar day and month, whatever the range', async () => {
    const r = await report(`/api/v1/sims/${A}/usage?granularity=hour&from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z`);
    expect(r.total.bytes).toBe(0);
    expect(r.today).toEqual({ date: '2026-01-15', bytesIn: 3 * GB + 100, bytesOut: 4 * GB + 200, bytes: 7 * GB + 300, records: 42 });
    expect(r.thisCycle).toEqual({ month: '2026-01', bytesIn: 3 * GB + 1110, bytesOut: 4 * GB + 2220, bytes: 7 * GB + 3330, records: 46, sms: { messages: 0, mo: 0, mt: 0, test: 0, included: 0, charged: 0, amount: '0.00' } });
  });

  it('buckets by local month', async () => {
    const r = await report(`/api/v1/sims/${A}/usage?granularity=month`);
    expect(r.buckets.map((b) => b.label)).toEqual([
      '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01',
    ]);
    expect(bucket(r, '2026-01')).toMatchObject({ start: '2025-12-31T16:00:00.000Z', end: '2026-01-31T16:00:00.000Z', bytes: 7 * GB + 3330, records: 46 });
    expect(bucket(r, '2025-12')).toMatchObject({ bytes: 11000, records: 4 });
    expect(bucket(r, '2025-06')).toMatchObject({ bytesIn: 7, bytesOut: 8 });
    const ranged = await report(`/api/v1/sims/${A}/usage?granularity=month&from=2025-12-01&to=2026-02-01`);
    expect(ranged.buckets.map((b) => [b.label, b.bytes])).toEqual([['2025-12', 11000], ['2026-01', 7 * GB + 3330]]);
    expect(ranged.from).toBe('2025-11-30T16:00:00.000Z');
  });

  it('buckets by hour over the last 24 hours, labelled in local time', async () => {
    const r = await report(`/api/v1/sims/${A}/usage?granularity=hour`);
    expect(r.from).toBe('2026-01-14T03:00:00.000Z');
    expect(r.to).toBe('2026-01-15T03:00:00.000Z');
    expect(r.buckets).toHaveLength(24);
    expect(r.buckets.filter((b) => b.records > 0).map((b) => [b.label, b.bytes])).toEqual([
      ['2026-01-14T23:00', 30],
      ['2026-01-15T07:00', 7 * GB],
      ['2026-01-15T09:00', 300],
    ]);
  });

  it('uses the time zone of the SIM\'s account', async () => {
    const r = await report(`/api/v1/sims/${D}/usage?granularity=day`, e2.key);
    expect(r.timezone).toBe('UTC');
    expect(bucket(r, '2026-01-14')).toMatchObject({ bytes: 33 });
    expect(r.today).toMatchObject({ date: '2026-01-15', bytes: 0 });
    expect(r.thisCycle).toMatchObject({ month: '2026-01', bytes: 33 });
  });

  it('reports a group (the SIMs now in it) and an account with or without its descendants', async () => {
    const group = await report(`/api/v1/groups/${groupId}/usage?granularity=day`, e1.key);
    expect(group.subject).toEqual({ kind: 'group', id: groupId });
    expect(bucket(group, '2026-01-15')).toMatchObject({ bytes: 7 * GB + 303, records: 43 });
    expect(group.today.bytes).toBe(7 * GB + 303);

    const account = await report(`/api/v1/accounts/${e1.accountId}/usage?granularity=day`, e1.key);
    expect(account.today.bytes).toBe(7 * GB + 413);

    const operatorAll = await report(`/api/v1/accounts/${t.operatorAccountId}/usage?granularity=month&from=2026-01-01&to=2026-02-01`);
    expect(operatorAll.total.bytes).toBe(7 * GB + 3330 + 3 + 110 + 33 + 18);
    const operatorOwn = await report(`/api/v1/accounts/${t.operatorAccountId}/usage?granularity=month&from=2026-01-01&to=2026-02-01&descendants=false`);
    expect(operatorOwn.total).toEqual({ bytesIn: 9, bytesOut: 9, bytes: 18, records: 1 });
    const reseller = await report(`/api/v1/accounts/${r1.accountId}/usage?granularity=day`, r1.key);
    expect(reseller.today.bytes).toBe(7 * GB + 413);
  });

  it('shows another tenant nothing', async () => {
    const outsider = e2.key;
    expect((await t.api('GET', `/api/v1/sims/${A}/usage`, undefined, { key: outsider })).json()).toMatchObject({ status: 404, code: 'sim_not_found' });
    expect((await t.api('GET', `/api/v1/groups/${groupId}/usage`, undefined, { key: outsider })).json().code).toBe('group_not_found');
    expect((await t.api('GET', `/api/v1/accounts/${e1.accountId}/usage`, undefined, { key: outsider })).json().code).toBe('account_not_found');
    expect((await t.api('GET', `/api/v1/accounts/${r1.accountId}/usage`, undefined, { key: r2.key })).statusCode).toBe(404);
    // E1 looking at its parent is refused as well.
    expect((await t.api('GET', `/api/v1/accounts/${r1.accountId}/usage`, undefined, { key: e1.key })).statusCode).toBe(404);
  });

  it('does not show a SIM\'s usage from before it moved into the caller\'s account', async () => {
    await t.platform.services.db.insertInto('usage_hourly').values(row(C, e2.accountId, '2026-01-15T01:00:00Z', 70, 70)).execute();
    // C is E1's: E1 sees only the hour recorded under E1; the operator sees both.
    expect((await report(`/api/v1/sims/${C}/usage?granularity=day`, e1.key)).today.bytes).toBe(110);
    expect((await report(`/api/v1/sims/${C}/usage?granularity=day`)).today.bytes).toBe(250);
  });

  it('rejects bad parameters with clear codes', async () => {
    const code = async (q: string) => (await t.api('GET', `/api/v1/sims/${A}/usage?${q}`)).json().code;
    expect(await code('granularity=week')).toBe('validation_failed');
    expect(await code('from=2026-02-30')).toBe('invalid_time');
    expect(await code('from=15/01/2026')).toBe('validation_failed');
    expect(await code('from=2026-01-10&to=2026-01-09')).toBe('invalid_time_range');
    expect(await code('granularity=hour&from=2025-01-01&to=2026-01-01')).toBe('range_too_large');
  });
});

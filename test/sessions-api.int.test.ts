import type { Insertable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RadiusSessionTable } from '../src/db/database.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

interface SessionDto {
  id: string;
  iccid: string;
  status: string;
  startedAt: string;
  bytes: number;
  country: string | null;
  operator: string | null;
  [key: string]: unknown;
}

// E1 owns SIMs 1-6 (1-3 in group "meters"), E2 owns SIMs 7-8. The clock stands at 2026-01-15T02:00Z (10:00 in Shanghai).
const A = iccidFor(1);
const B = iccidFor(2);
const C = iccidFor(3);
const D = iccidFor(4);
const E = iccidFor(5);
const F = iccidFor(6);
const OTHER = iccidFor(7);

describe.each(testDialects())('sessions API on %s', (dialect) => {
  let t: TestPlatform;
  let e1: { accountId: string; key: string };
  let e2: { accountId: string; key: string };
  let groupId: string;
  let e2GroupId: string;
  let n = 0;

  const session = (iccid: string, accountId: string, startedAt: string, extra: Partial<Insertable<RadiusSessionTable>> = {}): Insertable<RadiusSessionTable> => ({
    id: `ses_${String(++n).padStart(4, '0')}`,
    account_id: accountId,
    iccid,
    gateway_id: 'gw_test',
    acct_session_id: `acct-${n}`,
    status: 'stop',
    started_at: startedAt,
    last_seen_at: startedAt,
    bytes_in: 0,
    bytes_out: 0,
    cell: 'null', // no location reported (a JSON null)
    ...extra,
  });
  const get = (url: string, key?: string) => t.api('GET', url, undefined, key ? { key } : {});

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    e1 = await createTenant(t, 'enterprise', 'E1');
    e2 = await createTenant(t, 'enterprise', 'E2');
    groupId = (await t.api('POST', '/api/v1/groups', { name: 'meters', accountId: e1.accountId })).json().id;
    e2GroupId = (await t.api('POST', '/api/v1/groups', { name: 'meters', accountId: e2.accountId })).json().id;
    await t.api('POST', `/api/v1/sims/imports?accountId=${e1.accountId}`, simCsv(1, 6));
    await t.api('POST', `/api/v1/sims/imports?accountId=${e2.accountId}`, simCsv(7, 2));
    await t.drainJobs();
    for (const iccid of [A, B, C]) await t.api('PATCH', `/api/v1/sims/${iccid}`, { groupId });

    const db = t.platform.services.db;
    await db
      .insertInto('radius_sessions')
      .values([
        session(A, e1.accountId, '2026-01-10T08:00:00Z', { stopped_at: '2026-01-10T09:00:00Z', stop_cause: 'User-Request', bytes_in: 1000, bytes_out: 2000 }),
        session(A, e1.accountId, '2026-01-12T08:00:00Z', { stopped_at: '2026-01-12T09:00:00Z', stop_cause: 'Idle-Timeout' }),
        session(A, e1.accountId, '2026-01-13T08:00:00Z', { stopped_at: '2026-01-13T09:00:00Z', stop_cause: 'Lost-Carrier' }),
        session(A, e1.accountId, '2026-01-14T08:00:00Z', { stopped_at: '2026-01-14T20:00:00Z', stop_cause: 'Session-Timeout' }),
        session(A, e1.accountId, '2026-01-15T01:00:00Z', {
          status: 'alive',
          last_seen_at: '2026-01-15T01:55:00Z',
          bytes_in: 4_000_000_000,
          bytes_out: 6_000_000_123,
          apn: 'iot.example',
          framed_ip: '100.64.0.7',
          rat: '4G',
          mcc_mnc: '46000',
          cell: JSON.stringify({ mcc: '460', mnc: '00', tac: 4660, cellId: 123456 }),
          imei: '490154203237518',
          imsi: '460001234567890',
          session_seconds: 3300,
          gateway_id: 'gw_sz',
        }),
        session(B, e1.accountId, '2026-01-15T00:30:00Z', { status: 'start', mcc_mnc: '310410' }),
        session(C, e1.accountId, '2026-01-14T12:00:00Z', { stopped_at: '2026-01-14T13:00:00Z', mcc_mnc: '23450' }),
        session(D, e1.accountId, '2026-01-14T10:00:00Z', { status: 'alive', mcc_mnc: '99999' }),
        session(OTHER, e2.accountId, '2026-01-15T00:00:00Z', { status: 'alive' }),
      ])
      .execute();
  });
  afterAll(() => t?.close());

  it('shows the live session of a SIM with its serving network', async () => {
    const res = await get(`/api/v1/sims/${A}/session`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      iccid: A,
      accountId: e1.accountId,
      status: 'alive',
      startedAt: '2026-01-15T01:00:00.000Z',
      lastSeenAt: '2026-01-15T01:55:00.000Z',
      stoppedAt: null,
      stopCause: null,
      apn: 'iot.example',
      framedIp: '100.64.0.7',
      rat: '4G',
      mccMnc: '46000',
      country: 'CN',
      operator: 'China Mobile',
      cell: { mcc: '460', mnc: '00', tac: 4660, cellId: 123456 },
      imei: '490154203237518',
      imsi: '460001234567890',
      bytesIn: 4_000_000_000,
      bytesOut: 6_000_000_123,
      bytes: 10_000_000_123,
      sessionSeconds: 3300,
      gatewayId: 'gw_sz',
    });
    const roaming = (await get(`/api/v1/sims/${B}/session`)).json();
    expect(roaming).toMatchObject({ status: 'start', country: 'US', operator: 'AT&T' });
    const jersey = (await get(`/api/v1/sims/${C}/session`)).json();
    expect(jersey).toMatchObject({ status: 'stop', country: 'JE', operator: 'JT', stoppedAt: '2026-01-14T13:00:00.000Z', cell: null });
    const unknown = (await get(`/api/v1/sims/${D}/session`)).json();
    expect(unknown).toMatchObject({ mccMnc: '99999', country: null, operator: null });
  });

  it('says when a SIM never had a session, and hides other tenants\' SIMs', async () => {
    const none = await get(`/api/v1/sims/${E}/session`);
    expect(none.statusCode).toBe(404);
    expect(none.json().code).toBe('session_not_found');
    expect((await get(`/api/v1/sims/${A}/session`, e2.key)).json()).toMatchObject({ status: 404, code: 'sim_not_found' });
    expect((await get(`/api/v1/sims/${A}/sessions`, e2.key)).json().code).toBe('sim_not_found');
    expect((await get(`/api/v1/sims/${A}/session`, e1.key)).statusCode).toBe(200);
  });

  it('pages through the history of a SIM, newest first, each session once', async () => {
    const seen: SessionDto[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/v1/sims/${A}/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, e1.key);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ items: SessionDto[]; nextCursor: string | null }>();
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((s) => s.startedAt)).toEqual([
      '2026-01-15T01:00:00.000Z',
      '2026-01-14T08:00:00.000Z',
      '2026-01-13T08:00:00.000Z',
      '2026-01-12T08:00:00.000Z',
      '2026-01-10T08:00:00.000Z',
    ]);
    expect(seen.at(-1)).toMatchObject({ bytesIn: 1000, bytesOut: 2000, bytes: 3000, stopCause: 'User-Request', country: null });
  });

  it('filters the history by time: sessions overlapping [from, to)', async () => {
    const starts = async (q: string) => (await get(`/api/v1/sims/${A}/sessions?${q}`)).json().items.map((s: SessionDto) => s.startedAt.slice(0, 10));
    expect(await starts('from=2026-01-14T19:00:00Z')).toEqual(['2026-01-15', '2026-01-14']);
    expect(await starts('from=2026-01-14T21:00:00Z')).toEqual(['2026-01-15']);
    expect(await starts('to=2026-01-12T08:00:00Z')).toEqual(['2026-01-10']);
    expect(await starts('from=2026-01-11T00:00:00Z&to=2026-01-14T00:00:00Z')).toEqual(['2026-01-13', '2026-01-12']);
    expect(await starts('status=alive,start')).toEqual(['2026-01-15']);
    const backwards = await get(`/api/v1/sims/${A}/sessions?from=2026-01-14T00:00:00Z&to=2026-01-13T00:00:00Z`);
    expect(backwards.json()).toMatchObject({ status: 400, code: 'invalid_time_range' });
    expect((await get(`/api/v1/sims/${A}/sessions?cursor=garbage`)).json().code).toBe('invalid_cursor');
    expect((await get(`/api/v1/sims/${A}/sessions?status=up`)).json().code).toBe('validation_failed');
    expect((await get(`/api/v1/sims/${A}/sessions?from=yesterday`)).json().code).toBe('validation_failed');
  });

  it('lists the sessions of a group or of the whole scope, filtered by status', async () => {
    const iccids = async (q: string, key?: string) => (await get(`/api/v1/sessions?${q}`, key)).json().items.map((s: SessionDto) => s.iccid);
    expect(await iccids(`groupId=${groupId}&status=alive,start`)).toEqual([A, B]);
    expect(new Set(await iccids(`groupId=${groupId}&limit=100`))).toEqual(new Set([A, B, C]));
    expect(await iccids('status=alive', e1.key)).toEqual([A, D]);
    expect(await iccids('status=alive', e2.key)).toEqual([OTHER]);
    expect(await iccids('status=alive')).toEqual([A, OTHER, D]);
    expect(await iccids('from=2026-01-15T00:00:00Z&limit=100', e1.key)).toEqual([A, B, D]);
    expect((await get(`/api/v1/sessions?groupId=${groupId}`, e2.key)).json()).toMatchObject({ status: 404, code: 'group_not_found' });
    expect(await iccids(`groupId=${e2GroupId}`, e2.key)).toEqual([]);
  });

  it('keeps sessions of a SIM\'s former account from its new owner', async () => {
    // F served E1, then moved to E2: E2 sees the SIM but not the sessions recorded under E1.
    await t.platform.services.db.insertInto('radius_sessions').values(session(F, e1.accountId, '2026-01-11T00:00:00Z')).execute();
    await t.api('PATCH', `/api/v1/sims/${F}`, { accountId: e2.accountId });
    expect((await get(`/api/v1/sims/${F}/session`, e2.key)).json().code).toBe('session_not_found');
    expect((await get(`/api/v1/sims/${F}/sessions`, e2.key)).json().items).toEqual([]);
    expect((await get(`/api/v1/sims/${F}/session`)).statusCode).toBe(200);
  });
});

describe.each(testDialects())('SIM list network columns on %s', (dialect) => {
  let t: TestPlatform;
  let utcAccountId: string;
  // SIMs 1-12 in the operator account; 13-14 in an account on UTC, where it is still 2026-01-15 but 02:00.
  const sims = Array.from({ length: 14 }, (_, i) => iccidFor(101 + i));

  type Row = { connection_state: string | null; last_seen_at: string | null; usage_day: string | null; usage_day_bytes: number; usage_cycle: string | null; usage_cycle_bytes: number };
  const rows: Row[] = [
    { connection_state: 'alive', last_seen_at: '2026-01-15T01:00:00Z', usage_day: '2026-01-15', usage_day_bytes: 500, usage_cycle: '2026-01', usage_cycle_bytes: 9_000_000_000 },
    { connection_state: 'alive', last_seen_at: '2026-01-15T01:00:00Z', usage_day: '2026-01-15', usage_day_bytes: 500, usage_cycle: '2026-01', usage_cycle_bytes: 700 },
    { connection_state: 'start', last_seen_at: '2026-01-15T01:30:00Z', usage_day: '2026-01-15', usage_day_bytes: 10, usage_cycle: '2026-01', usage_cycle_bytes: 10 },
    { connection_state: 'stop', last_seen_at: '2026-01-14T12:00:00Z', usage_day: '2026-01-14', usage_day_bytes: 800, usage_cycle: '2026-01', usage_cycle_bytes: 800 },
    { connection_state: 'stop', last_seen_at: '2025-12-31T12:00:00Z', usage_day: '2025-12-31', usage_day_bytes: 900, usage_cycle: '2025-12', usage_cycle_bytes: 5000 },
    { connection_state: null, last_seen_at: null, usage_day: null, usage_day_bytes: 0, usage_cycle: null, usage_cycle_bytes: 0 },
    { connection_state: null, last_seen_at: null, usage_day: null, usage_day_bytes: 0, usage_cycle: null, usage_cycle_bytes: 0 },
    { connection_state: 'alive', last_seen_at: '2026-01-15T00:59:59Z', usage_day: '2026-01-15', usage_day_bytes: 3000, usage_cycle: '2026-01', usage_cycle_bytes: 3000 },
    { connection_state: 'stop', last_seen_at: '2026-01-10T00:00:00Z', usage_day: '2026-01-10', usage_day_bytes: 1, usage_cycle: '2026-01', usage_cycle_bytes: 700 },
    { connection_state: null, last_seen_at: null, usage_day: null, usage_day_bytes: 0, usage_cycle: null, usage_cycle_bytes: 0 },
    { connection_state: 'alive', last_seen_at: '2026-01-15T01:00:00Z', usage_day: '2026-01-15', usage_day_bytes: 10, usage_cycle: '2026-01', usage_cycle_bytes: 10 },
    { connection_state: 'start', last_seen_at: '2026-01-15T01:59:00Z', usage_day: '2026-01-15', usage_day_bytes: 0, usage_cycle: '2026-01', usage_cycle_bytes: 0 },
    // UTC account: 2026-01-14 is yesterday there too, 2026-01-15 is today.
    { connection_state: 'alive', last_seen_at: '2026-01-15T01:45:00Z', usage_day: '2026-01-15', usage_day_bytes: 250, usage_cycle: '2026-01', usage_cycle_bytes: 250 },
    { connection_state: 'stop', last_seen_at: '2026-01-14T23:00:00Z', usage_day: '2026-01-14', usage_day_bytes: 4000, usage_cycle: '2026-01', usage_cycle_bytes: 4000 },
  ];
  const byIccid = new Map(sims.map((iccid, i) => [iccid, rows[i]!]));

  const today = (r: Row) => (r.usage_day === '2026-01-15' ? r.usage_day_bytes : 0);
  const cycle = (r: Row) => (r.usage_cycle === '2026-01' ? r.usage_cycle_bytes : 0);

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    utcAccountId = (await t.api('POST', '/api/v1/accounts', { kind: 'enterprise', name: 'UTC Co', timezone: 'UTC' })).json().id;
    await t.api('POST', '/api/v1/sims/imports', simCsv(101, 12));
    await t.api('POST', `/api/v1/sims/imports?accountId=${utcAccountId}`, simCsv(113, 2));
    await t.drainJobs();
    for (const [iccid, row] of byIccid) await t.platform.services.db.updateTable('sims').set(row).where('iccid', '=', iccid).execute();
  });
  afterAll(() => t?.close());

  /** Every page of a list, following the cursor, checking that no SIM comes twice. */
  async function all(query: string, limit = 3): Promise<{ iccid: string; [k: string]: unknown }[]> {
    const items: { iccid: string; [k: string]: unknown }[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api('GET', `/api/v1/sims?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ items: { iccid: string }[]; nextCursor: string | null }>();
      items.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(items.map((s) => s.iccid)).size).toBe(items.length);
    return items;
  }

  it('shows connection state, last seen and the usage of the current day and cycle', async () => {
    const sim = (await t.api('GET', `/api/v1/sims/${sims[0]}`)).json();
    expect(sim).toMatchObject({ connectionState: 'alive', lastSeenAt: '2026-01-15T01:00:00.000Z', usageTodayBytes: 500, usageCycleBytes: 9_000_000_000 });
    // Counters of an earlier day or month read as 0.
    expect((await t.api('GET', `/api/v1/sims/${sims[3]}`)).json()).toMatchObject({ connectionState: 'stop', usageTodayBytes: 0, usageCycleBytes: 800 });
    expect((await t.api('GET', `/api/v1/sims/${sims[4]}`)).json()).toMatchObject({ usageTodayBytes: 0, usageCycleBytes: 0 });
    expect((await t.api('GET', `/api/v1/sims/${sims[5]}`)).json()).toMatchObject({ connectionState: null, lastSeenAt: null, usageTodayBytes: 0, usageCycleBytes: 0 });
  });

  it('moves today and this cycle with the clock, in the account\'s time zone', async () => {
    // 16:00Z is midnight in Shanghai: 2026-01-16 there, still 2026-01-15 on UTC.
    t.clock.set('2026-01-15T16:30:00Z');
    try {
      expect((await t.api('GET', `/api/v1/sims/${sims[0]}`)).json()).toMatchObject({ usageTodayBytes: 0, usageCycleBytes: 9_000_000_000 });
      expect((await t.api('GET', `/api/v1/sims/${sims[12]}`)).json()).toMatchObject({ usageTodayBytes: 250 });
      t.clock.set('2026-01-31T16:00:00Z');
      expect((await t.api('GET', `/api/v1/sims/${sims[0]}`)).json()).toMatchObject({ usageTodayBytes: 0, usageCycleBytes: 0 });
      expect((await t.api('GET', `/api/v1/sims/${sims[12]}`)).json()).toMatchObject({ usageCycleBytes: 250 });
    } finally {
      t.clock.set('2026-01-15T02:00:00Z');
    }
  });

  it('filters by connection state, "none" meaning never seen', async () => {
    const ids = async (q: string) => (await all(q, 100)).map((s) => s.iccid).sort();
    const expected = (pred: (r: Row) => boolean) => sims.filter((s) => pred(byIccid.get(s)!)).sort();
    expect(await ids('connection=alive')).toEqual(expected((r) => r.connection_state === 'alive'));
    expect(await ids('connection=start,alive')).toEqual(expected((r) => r.connection_state === 'start' || r.connection_state === 'alive'));
    expect(await ids('connection=none')).toEqual(expected((r) => r.connection_state === null));
    expect(await ids('connection=stop,none')).toEqual(expected((r) => r.connection_state === 'stop' || r.connection_state === null));
    expect((await t.api('GET', '/api/v1/sims?connection=online')).json().code).toBe('validation_failed');
  });

  it('sorts by last seen, never-seen SIMs last in both orders, ties by ICCID, across pages', async () => {
    const seen = (r: Row) => (r.last_seen_at ? Date.parse(r.last_seen_at) : null);
    for (const order of ['asc', 'desc'] as const) {
      const expected = [...sims].sort((a, b) => {
        const [x, y] = [seen(byIccid.get(a)!), seen(byIccid.get(b)!)];
        if (x === null || y === null) return x === y ? (order === 'asc' ? a.localeCompare(b) : b.localeCompare(a)) : x === null ? 1 : -1;
        if (x !== y) return order === 'asc' ? x - y : y - x;
        return order === 'asc' ? a.localeCompare(b) : b.localeCompare(a);
      });
      for (const limit of [1, 2, 3, 5]) expect((await all(`sort=lastSeenAt&order=${order}`, limit)).map((s) => s.iccid), `${order} ${limit}`).toEqual(expected);
    }
  });

  it('sorts by today\'s and this cycle\'s usage (stale counters as 0), ties by ICCID, across pages', async () => {
    for (const [sort, value] of [['usageTodayBytes', today], ['usageCycleBytes', cycle]] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const expected = [...sims].sort((a, b) => {
          const d = value(byIccid.get(a)!) - value(byIccid.get(b)!);
          const o = d !== 0 ? d : a.localeCompare(b);
          return order === 'asc' ? o : -o;
        });
        for (const limit of [2, 4]) {
          const got = await all(`sort=${sort}&order=${order}`, limit);
          expect(got.map((s) => s.iccid), `${sort} ${order} ${limit}`).toEqual(expected);
          expect(got.map((s) => s[sort])).toEqual(expected.map((i) => value(byIccid.get(i)!)));
        }
      }
    }
    const filtered = await all('sort=usageTodayBytes&order=desc&connection=alive', 2);
    expect(filtered.map((s) => s.usageTodayBytes)).toEqual([3000, 500, 500, 250, 10]);
  });

  it('refuses a cursor that does not fit the sort', async () => {
    const page = (await t.api('GET', '/api/v1/sims?sort=lastSeenAt&order=desc&limit=13')).json();
    expect(page.nextCursor).not.toBeNull();
    const wrong = await t.api('GET', `/api/v1/sims?sort=usageTodayBytes&cursor=${page.nextCursor}`);
    expect(wrong.json()).toMatchObject({ status: 400, code: 'invalid_cursor' });
    const forged = Buffer.from(JSON.stringify({ value: 'soon', iccid: sims[0] })).toString('base64url');
    expect((await t.api('GET', `/api/v1/sims?sort=lastSeenAt&cursor=${forged}`)).json().code).toBe('invalid_cursor');
    expect((await t.api('GET', `/api/v1/sims?sort=createdAt&cursor=${Buffer.from(JSON.stringify({ value: null, iccid: sims[0] })).toString('base64url')}`)).json().code).toBe('invalid_cursor');
  });
});

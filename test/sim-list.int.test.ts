import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, msisdnFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

type SimDto = { iccid: string; state: string; imsi: string; profiles: { imsi: string; active: boolean }[] };

describe.each(testDialects())('SIM list, search and lookups on %s', (dialect) => {
  let t: TestPlatform;
  let groupId: string;
  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    groupId = (await t.api('POST', '/api/v1/groups', { name: 'meters' })).json().id;
    const multi = `iccid,imsi,active_imsi,msisdn,group,labels\n${iccidFor(100)},${imsiFor(100)}|${imsiFor(200)},${imsiFor(200)},${msisdnFor(100)},meters,a|b\n`;
    await t.api('POST', '/api/v1/sims/imports', multi);
    await t.api('POST', '/api/v1/sims/imports', simCsv(1, 30, (i) => (i <= 10 ? 'ten' : '')));
    await t.drainJobs();
    for (let i = 1; i <= 5; i++) await t.api('POST', `/api/v1/sims/${iccidFor(i)}/state`, { state: 'active' });
    await t.api('PATCH', `/api/v1/sims/${iccidFor(1)}`, { groupId, imei: '490154203237518', deviceName: 'meter 1', customFields: { site: 'north' } });
  });
  afterAll(() => t?.close());

  it('pages through every SIM with a cursor, each exactly once, in ICCID order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api('GET', `/api/v1/sims?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ items: SimDto[]; nextCursor: string | null }>();
      seen.push(...body.items.map((s) => s.iccid));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(31);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(31);
  });

  it('sorts by state change time descending with a stable cursor', async () => {
    const first = (await t.api('GET', '/api/v1/sims?sort=stateChangedAt&order=desc&limit=3')).json();
    const second = (await t.api('GET', `/api/v1/sims?sort=stateChangedAt&order=desc&limit=3&cursor=${first.nextCursor}`)).json();
    const all = [...first.items, ...second.items].map((s: SimDto) => s.iccid);
    expect(new Set(all).size).toBe(6);
  });

  it('filters by state, group, batch, label and custom field', async () => {
    const ids = async (q: string) => (await t.api('GET', `/api/v1/sims?${q}`)).json().items.map((s: SimDto) => s.iccid);
    expect(await ids('state=active')).toHaveLength(5);
    expect(await ids('state=active,inventory')).toHaveLength(31);
    expect(await ids(`state=active&groupId=${groupId}`)).toEqual([iccidFor(1)]);
    expect(await ids('label=ten')).toHaveLength(10);
    expect(await ids('label=a,b')).toEqual([iccidFor(100)]);
    expect(await ids('batch=B1&limit=100')).toHaveLength(30);
    expect(await ids('cf.site=north')).toEqual([iccidFor(1)]);
  });

  it('searches by ICCID, any IMSI profile, MSISDN and IMEI', async () => {
    const q = async (v: string) => (await t.api('GET', `/api/v1/sims?q=${v}`)).json().items.map((s: SimDto) => s.iccid);
    expect(await q(iccidFor(100))).toEqual([iccidFor(100)]);
    expect(await q(imsiFor(100))).toEqual([iccidFor(100)]);
    expect(await q(imsiFor(200))).toEqual([iccidFor(100)]);
    expect(await q(msisdnFor(100))).toEqual([iccidFor(100)]);
    expect(await q('490154203237518')).toEqual([iccidFor(1)]);
    const sim = (await t.api('GET', `/api/v1/sims/${iccidFor(100)}`)).json<SimDto>();
    expect(sim.imsi).toBe(imsiFor(200));
    expect(sim.profiles).toEqual([{ imsi: imsiFor(100), active: false }, { imsi: imsiFor(200), active: true }]);
  });

  it('looks up a batch of identifiers in both directions', async () => {
    const res = await t.api('POST', '/api/v1/sims/lookup', { by: 'imsi', values: [imsiFor(200), imsiFor(3), '460009999999999'] });
    expect(res.json().items).toEqual([
      expect.objectContaining({ value: imsiFor(200), found: true, iccid: iccidFor(100), msisdn: msisdnFor(100), activeImsi: imsiFor(200) }),
      expect.objectContaining({ value: imsiFor(3), found: true, iccid: iccidFor(3) }),
      expect.objectContaining({ value: '460009999999999', found: false, iccid: null }),
    ]);
    const byIccid = await t.api('POST', '/api/v1/sims/lookup', { by: 'iccid', values: [iccidFor(1)] });
    expect(byIccid.json().items[0]).toMatchObject({ imei: '490154203237518', imsis: [imsiFor(1)] });
  });

  it('rejects bad input with a clear problem document', async () => {
    const bad = await t.api('GET', '/api/v1/sims?cursor=nonsense');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().code).toBe('invalid_cursor');
    expect((await t.api('GET', '/api/v1/sims/12345')).json().code).toBe('validation_failed');
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(999)}`)).json().code).toBe('sim_not_found');
    const imei = await t.api('PATCH', `/api/v1/sims/${iccidFor(2)}`, { imei: '490154203237519' });
    expect(imei.json()).toMatchObject({ status: 400, code: 'invalid_imei_check_digit' });
    const unknownField = await t.api('PATCH', `/api/v1/sims/${iccidFor(2)}`, { colour: 'red' });
    expect(unknownField.json().code).toBe('validation_failed');
    const badJson = await t.app.inject({ method: 'POST', url: '/api/v1/groups', headers: { authorization: `Bearer ${t.operatorKey}`, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().code).toBe('invalid_json');
    const header = await t.api('POST', '/api/v1/sims/imports', 'iccid,colour\n1,2\n');
    expect(header.json()).toMatchObject({ code: 'invalid_csv_header' });
    expect(header.json().detail).toContain('unknown column(s) colour');
  });

  it('deletes only SIMs still in inventory', async () => {
    expect((await t.api('DELETE', `/api/v1/sims/${iccidFor(1)}`)).json().code).toBe('sim_not_in_inventory');
    expect((await t.api('DELETE', `/api/v1/sims/${iccidFor(30)}`)).statusCode).toBe(204);
    expect((await t.api('GET', `/api/v1/sims/${iccidFor(30)}`)).statusCode).toBe(404);
  });
});

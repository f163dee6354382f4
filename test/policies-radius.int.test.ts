import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, Attr3gpp, attr3gpp, Code, type OutgoingAttribute } from '../src/radius/attributes.ts';
import type { RadiusPacket } from '../src/radius/codec.ts';
import type { RunningServer } from '../src/server.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { luhnCheckDigit } from '../src/shared/luhn.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { TestDae, TestGateway } from './support/radius-peer.ts';
import { callApi, startRadiusTestServer, waitUntil } from './support/radius-server.ts';

const KEY = 'mk_policiesRadiusTestKey0123456789ab';
const SECRET = 'gateway-secret-policies';

/** The IMEI Meridian derives from an IMEISV: its first 14 digits and their Luhn check digit. */
const imeiOf = (body14: string): string => `${body14}${luhnCheckDigit(body14)}`;
/** Attributes of a device (3GPP-IMEISV, software version 01) on a serving network. */
const device = (body14: string, mccMnc = '46000'): OutgoingAttribute[] => [attr3gpp(Attr3gpp.ImeiSv, `${body14}01`), attr3gpp(Attr3gpp.SgsnMccMnc, mccMnc)];
const replyMessage = (p: RadiusPacket | undefined): string | undefined => p?.attributes.get(Attr.ReplyMessage)?.toString();

describe.each(testDialects())('communication plans and policies through RADIUS on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  let gw: TestGateway;
  let dae: TestDae;
  let acct: number;
  let auth: number;
  const clock = new ManualClock('2026-01-15T02:00:00Z');
  const api = (method: string, path: string, body?: unknown, key = KEY) => callApi(server, key, method, path, body);
  const waitFor = async (check: () => Promise<boolean>) => {
    await waitUntil(check);
    expect(await check()).toBe(true);
  };
  const plan = async (body: Record<string, unknown>) => {
    const res = await api('POST', '/comm-plans', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const assign = async (serial: number, commPlanId: string | null) => expect((await api('PUT', `/sims/${iccidFor(serial)}/comm-plan`, { commPlanId })).status).toBe(200);
  const violations = async (serial: number, kind: string) => (await api('GET', `/policy-violations?iccid=${iccidFor(serial)}&kind=${kind}`)).body.items;
  const disconnectsOf = (sessionId: string) => dae.received.filter((p) => p.attributes.get(Attr.AcctSessionId)?.toString() === sessionId);

  beforeAll(async () => {
    ({ server, drop } = await startRadiusTestServer(dialect, KEY, { clock }));
    ({ authPort: auth, acctPort: acct } = server.radius!);
    dae = await TestDae.open(SECRET);
    expect((await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET, coaPort: dae.port })).status).toBe(201);
    await api('POST', '/sims/imports', simCsv(1, 10));
    await waitFor(async () => (await api('GET', '/sims?limit=20')).body.items.length === 10);
    for (const i of [1, 2, 3, 4, 5, 6, 7, 9]) expect((await api('POST', `/sims/${iccidFor(i)}/state`, { state: 'active' })).status).toBe(200);
    gw = await TestGateway.open(SECRET);
  });
  afterAll(async () => {
    await gw?.close();
    await dae?.close();
    await server?.stop();
    await drop?.();
  });

  it('keeps voice and SMS off by default and shows the default policy of a SIM without a plan', async () => {
    const res = await api('GET', `/sims/${iccidFor(3)}/policy`);
    expect(res.body).toMatchObject({ source: 'default', commPlan: null, imeiLock: { mode: 'off' }, boundImei: null });
    const created = await api('POST', '/comm-plans', { name: 'defaults' });
    expect(created.body).toMatchObject({ services: { data: true, voice: false, sms: false }, abnormalDailyBytes: 150 * 1024 * 1024, imeiLock: { mode: 'off', maxDevices: 10 } });
    const bad = await api('POST', '/comm-plans', { name: 'bad', destinations: ['10.0.0.0/40'], region: { mode: 'allowed' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_comm_plan');
    expect(bad.body.detail).toContain('destination "10.0.0.0/40"');
    expect(bad.body.detail).toContain('region mode allowed needs at least one country, zone or operator');
  });

  it('binds the first IMEI; another device is refused with the reason, the session is disconnected, the SIM suspended imei_mismatch and a violation raised', async () => {
    await assign(1, await plan({ name: 'locked', imeiLock: { mode: 'first' } }));
    const first = '35693803564380';
    const other = '86012345000001';
    expect((await gw.access(auth, imsiFor(1), device(first)))?.code).toBe(Code.AccessAccept);
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(1)}/policy`)).body.boundImei === imeiOf(first));
    expect((await gw.accounting(acct, 'Start', { sessionId: 'imei-1', imsi: imsiFor(1), extra: device(first) }))?.code).toBe(Code.AccountingResponse);

    const refused = await gw.access(auth, imsiFor(1), device(other));
    expect(refused?.code).toBe(Code.AccessReject);
    expect(replyMessage(refused)).toBe(`IMEI mismatch (机卡分离): device IMEI ${imeiOf(other)} is not the bound IMEI ${imeiOf(first)}`);
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(1)}`)).body.state === 'suspended');
    expect((await api('GET', `/sims/${iccidFor(1)}`)).body.suspendReason).toBe('imei_mismatch');
    await waitFor(async () => disconnectsOf('imei-1').length > 0);
    const [v] = await violations(1, 'imei_mismatch');
    expect(v).toMatchObject({ kind: 'imei_mismatch', data: { imei: imeiOf(other), boundImei: imeiOf(first) } });
    const alerts = (await api('GET', `/alerts?type=imei_mismatch&subjectKind=sim&subjectId=${iccidFor(1)}`)).body.items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'imei_mismatch', severity: 'critical', state: 'unhandled', message: v!.message });
    const events = (await api('GET', `/events?type=sim.updated&subjectKind=sim&subjectId=${iccidFor(1)}`)).body.items;
    expect(events.some((e) => JSON.stringify(e).includes('IMEI lock: bound to the first device seen'))).toBe(true);
    expect(replyMessage(await gw.access(auth, imsiFor(1), device(first)))).toBe('SIM suspended (imei_mismatch)');

    const reset = await api('POST', `/sims/${iccidFor(1)}/imei-reset`, { reason: 'device replaced' });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ boundImei: null, devices: [] });
    expect((await api('GET', `/sims/${iccidFor(1)}`)).body.state).toBe('active');
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.access(auth, imsiFor(1), device(other)))?.code).toBe(Code.AccessAccept);
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(1)}/policy`)).body.boundImei === imeiOf(other));
    const changes = (await api('GET', `/sims/${iccidFor(1)}/changes?field=imei`)).body.items;
    expect(changes.map((c) => [c.oldValue, c.newValue, c.source])).toEqual([
      [null, imeiOf(other), 'network'],
      [imeiOf(first), null, 'api'],
      [null, imeiOf(first), 'network'],
    ]);
  });

  it('detects a device change inside a session from accounting and suspends the SIM', async () => {
    await assign(9, await plan({ name: 'locked-acct', imeiLock: { mode: 'first' } }));
    await gw.accounting(acct, 'Start', { sessionId: 'imei-9', imsi: imsiFor(9), extra: device('35693803000009') });
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(9)}/policy`)).body.boundImei === imeiOf('35693803000009'));
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'imei-9', imsi: imsiFor(9), bytesIn: 100, extra: device('99000000000009') });
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(9)}`)).body.suspendReason === 'imei_mismatch');
    await waitFor(async () => disconnectsOf('imei-9').length > 0);
  });

  it('accepts sibling devices sharing the TAC up to N under a group plan, then refuses', async () => {
    const group = await api('POST', '/groups', { name: 'trackers' });
    const tac = await plan({ name: 'tac-2', imeiLock: { mode: 'tac', maxDevices: 2 } });
    expect((await api('PUT', `/groups/${group.body.id as string}/comm-plan`, { commPlanId: tac })).status).toBe(200);
    expect((await api('PATCH', `/sims/${iccidFor(2)}`, { groupId: group.body.id })).status).toBe(200);
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(2)}/policy`)).body.source === 'group');
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.access(auth, imsiFor(2), device('35693803000001')))?.code).toBe(Code.AccessAccept);
    expect((await gw.access(auth, imsiFor(2), device('35693803000002')))?.code).toBe(Code.AccessAccept);
    expect((await gw.access(auth, imsiFor(2), device('35693803000001')))?.code).toBe(Code.AccessAccept);
    const third = await gw.access(auth, imsiFor(2), device('35693803000003'));
    expect(replyMessage(third)).toContain('would be device 3 of TAC 35693803; at most 2 allowed');
    await waitFor(async () => ((await api('GET', `/sims/${iccidFor(2)}/policy`)).body.devices as unknown[]).length === 2);
    const policy = (await api('GET', `/sims/${iccidFor(2)}/policy`)).body;
    expect(policy).toMatchObject({ source: 'group', imeiLock: { mode: 'tac', maxDevices: 2 }, boundImei: imeiOf('35693803000001') });
  });

  it('refuses a blacklisted IMEI on any SIM, and only the operator manages the blacklist', async () => {
    const listed = imeiOf('35000000000777');
    expect((await api('POST', '/imei-blacklist', { imei: listed, reason: 'stolen' })).status).toBe(204);
    expect((await api('POST', '/imei-blacklist', { imei: '123' })).body.code).toBe('invalid_imei');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await gw.access(auth, imsiFor(3), device('35000000000777'));
    expect(replyMessage(refused)).toBe(`device IMEI ${listed} is blacklisted`);
    expect((await gw.access(auth, imsiFor(3), device('35000000000778')))?.code).toBe(Code.AccessAccept);
    await waitFor(async () => (await violations(3, 'imei_blacklisted')).length === 1);
    const reseller = await api('POST', '/accounts', { kind: 'reseller', name: 'R-blacklist' });
    const key = (await api('POST', '/api-keys', { accountId: reseller.body.id, name: 'k' })).body.secret as string;
    expect((await api('GET', '/imei-blacklist', undefined, key)).status).toBe(403);
    expect((await api('POST', '/imei-blacklist', { imei: listed }, key)).status).toBe(403);
  });

  it('refuses serving networks outside the allowed region and disconnects a session roaming out; high-risk areas on every SIM', async () => {
    await assign(4, await plan({ name: 'china-only', region: { mode: 'allowed', countries: ['CN'], zones: [], operators: [] } }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.access(auth, imsiFor(4), device('35693803000004', '46001')))?.code).toBe(Code.AccessAccept);
    const out = await gw.access(auth, imsiFor(4), device('35693803000004', '45400'));
    expect(replyMessage(out)).toBe('out of region: serving network 45400 (HK) is outside the allowed region CN');

    await gw.accounting(acct, 'Start', { sessionId: 'region-4', imsi: imsiFor(4), extra: device('35693803000004', '46000') });
    expect(disconnectsOf('region-4')).toHaveLength(0);
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'region-4', imsi: imsiFor(4), bytesIn: 10, extra: device('35693803000004', '45400') });
    await waitFor(async () => disconnectsOf('region-4').length > 0);
    await waitFor(async () => (await violations(4, 'out_of_region')).length === 1);
    expect((await api('GET', `/alerts?type=out_of_region&subjectId=${iccidFor(4)}`)).body.items).toHaveLength(1);
    expect((await api('GET', `/sims/${iccidFor(4)}`)).body.state).toBe('active');

    expect((await api('POST', '/high-risk-areas', { code: 'KP', reason: 'fraud' })).status).toBe(204);
    expect((await api('POST', '/high-risk-areas', { code: 'K1' })).body.code).toBe('invalid_area');
    await new Promise((r) => setTimeout(r, 100));
    expect(replyMessage(await gw.access(auth, imsiFor(5), device('35693803000005', '46701')))).toBe('serving network 46701 is in the high-risk area KP');
    expect((await gw.access(auth, imsiFor(5), device('35693803000005', '46000')))?.code).toBe(Code.AccessAccept);
  });

  it('binds the region of first activation after the test period, not during it', async () => {
    await assign(8, await plan({ name: 'first-region', region: { mode: 'first_activation' } }));
    expect((await api('POST', `/sims/${iccidFor(8)}/state`, { state: 'test' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.access(auth, imsiFor(8), device('35693803000008', '45400')))?.code).toBe(Code.AccessAccept);
    expect((await api('GET', `/sims/${iccidFor(8)}/policy`)).body.boundCountry).toBeNull();
    expect((await api('POST', `/sims/${iccidFor(8)}/state`, { state: 'active' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await gw.access(auth, imsiFor(8), device('35693803000008', '46000')))?.code).toBe(Code.AccessAccept);
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(8)}/policy`)).body.boundCountry === 'CN');
    expect(replyMessage(await gw.access(auth, imsiFor(8), device('35693803000008', '45400')))).toBe(
      'out of region: serving network 45400 (HK) is outside CN, the region of first activation',
    );
  });

  it('sends the destination whitelist in Access-Accept as NAS-Filter-Rule and Filter-Id', async () => {
    const id = await plan({ name: 'directed', destinations: ['10.1.0.0/16', 'api.example.com'] });
    await assign(6, id);
    await new Promise((r) => setTimeout(r, 100));
    const accept = await gw.access(auth, imsiFor(6), device('35693803000006'));
    expect(accept?.code).toBe(Code.AccessAccept);
    const rules = accept!.attributes
      .toArray()
      .filter((a) => a.type === Attr.NasFilterRule)
      .map((a) => a.value.toString());
    expect(rules.join('').split('\0')).toEqual(['permit in ip from any to 10.1.0.0/16', 'permit out ip from 10.1.0.0/16 to any', 'deny in ip from any to any', 'deny out ip from any to any']);
    expect(accept!.attributes.getText(Attr.FilterId)).toBe(`meridian-${id}`);
    const plain = await gw.access(auth, imsiFor(3), device('35693803000003'));
    expect(plain?.attributes.get(Attr.NasFilterRule)).toBeUndefined();
  });

  it('flags abnormal daily traffic once, blocks data at the daily limit until the next day', async () => {
    await assign(7, await plan({ name: 'capped', dailyDataLimitBytes: 5000, abnormalDailyBytes: 3000 }));
    await new Promise((r) => setTimeout(r, 100));
    await gw.accounting(acct, 'Start', { sessionId: 'cap-7', imsi: imsiFor(7) });
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'cap-7', imsi: imsiFor(7), bytesIn: 3500 });
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'cap-7', imsi: imsiFor(7), bytesIn: 4000 });
    await waitFor(async () => (await violations(7, 'abnormal_traffic')).length === 1);
    expect(disconnectsOf('cap-7')).toHaveLength(0);
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'cap-7', imsi: imsiFor(7), bytesIn: 5200 });
    await waitFor(async () => disconnectsOf('cap-7').length > 0);
    await waitFor(async () => (await violations(7, 'data_limit')).length === 1);
    expect(replyMessage(await gw.access(auth, imsiFor(7)))).toBe('daily data limit of 5000 bytes reached; data resumes the next local day');
    expect((await api('GET', `/sims/${iccidFor(7)}`)).body.state).toBe('active');
    clock.advance(24 * 3_600_000);
    expect((await gw.access(auth, imsiFor(7)))?.code).toBe(Code.AccessAccept);
    clock.advance(-24 * 3_600_000);
  });

  it('keeps one account from reading or changing another account\'s communication plans and SIM policies', async () => {
    const a = await api('POST', '/accounts', { kind: 'reseller', name: 'R-A' });
    const b = await api('POST', '/accounts', { kind: 'reseller', name: 'R-B' });
    const keyA = (await api('POST', '/api-keys', { accountId: a.body.id, name: 'ka' })).body.secret as string;
    const keyB = (await api('POST', '/api-keys', { accountId: b.body.id, name: 'kb' })).body.secret as string;
    const created = await api('POST', '/comm-plans', { name: 'A plan', imeiLock: { mode: 'first' } }, keyA);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api('GET', `/comm-plans/${id}`, undefined, keyB)).status).toBe(404);
    expect((await api('PATCH', `/comm-plans/${id}`, { name: 'taken' }, keyB)).status).toBe(404);
    expect((await api('DELETE', `/comm-plans/${id}`, undefined, keyB)).status).toBe(404);
    expect((await api('GET', '/comm-plans', undefined, keyB)).body.items).toEqual([]);
    expect((await api('GET', '/comm-plans', undefined, keyA)).body.items.map((p) => p.id)).toEqual([id]);
    expect((await api('GET', `/sims/${iccidFor(1)}/policy`, undefined, keyA)).status).toBe(404);
    expect((await api('POST', `/sims/${iccidFor(1)}/imei-reset`, {}, keyA)).status).toBe(404);
    expect((await api('GET', `/policy-violations?iccid=${iccidFor(1)}`, undefined, keyA)).body.items).toEqual([]);
    // the operator may not put a SIM of its own account on a reseller's plan
    const misfit = await api('PUT', `/sims/${iccidFor(10)}/comm-plan`, { commPlanId: id });
    expect(misfit.body.code).toBe('comm_plan_not_available');
    // a plan in use cannot be deleted
    const used = await api('GET', '/comm-plans?limit=100');
    const locked = used.body.items.find((p) => p.name === 'locked')!.id as string;
    expect((await api('DELETE', `/comm-plans/${locked}`)).body.code).toBe('comm_plan_in_use');
  });
});

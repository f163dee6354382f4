import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPlanVersions, insertZones } from '../src/modules/rating/catalog.repository.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { Attr, Attr3gpp, attr3gpp, Code } from '../src/radius/attributes.ts';
import type { RunningServer } from '../src/server.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { TestDae, TestGateway } from './support/radius-peer.ts';
import { callApi, startRadiusTestServer, waitUntil } from './support/radius-server.ts';

const KEY = 'mk_radiusServerTestKey0123456789abcd';
const SECRET = 'gateway-secret-1';

describe.each(testDialects())('RADIUS server on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  let gw: TestGateway;
  let dae: TestDae;
  let acct: number;
  let auth: number;
  const api = (method: string, path: string, body?: unknown) => callApi(server, KEY, method, path, body);
  const usageOf = async (iccid: string) => {
    const { rows } = await sql<{ b: string }>`SELECT coalesce(sum(bytes_in + bytes_out), 0) AS b FROM usage_records WHERE iccid = ${iccid}`.execute(server.platform.services.db);
    return Number(rows[0]!.b);
  };
  const waitFor = waitUntil;

  beforeAll(async () => {
    ({ server, drop } = await startRadiusTestServer(dialect, KEY));
    ({ authPort: auth, acctPort: acct } = server.radius!);
    dae = await TestDae.open(SECRET);
    expect((await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET, coaPort: dae.port })).status).toBe(201);
    await api('POST', '/sims/imports', simCsv(1, 4));
    await waitFor(async () => (await api('GET', '/sims?limit=10')).body.items.length === 4);
    for (const i of [1, 2, 3]) await api('POST', `/sims/${iccidFor(i)}/state`, { state: 'active' });
    gw = await TestGateway.open(SECRET);
  });
  afterAll(async () => {
    await gw?.close();
    await dae?.close();
    await server?.stop();
    await drop?.();
  });

  it('answers Start, Interim and Stop after recording the usage, once per packet', async () => {
    const imsi = imsiFor(1);
    const uli = Buffer.from('82' + '64f000' + '0001' + '64f000' + '00000102', 'hex'); // TAI+ECGI: MCC 460, MNC 00, TAC 1, ECI 258
    const extra = [attr3gpp(Attr3gpp.SgsnMccMnc, '46000'), attr3gpp(Attr3gpp.RatType, Buffer.from([6])), attr3gpp(Attr3gpp.UserLocationInfo, uli)];
    const start = await gw.accounting(acct, 'Start', { sessionId: 'a1', imsi, extra });
    expect(start?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 'a1', imsi, bytesIn: 1000, bytesOut: 500 }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 'a1', imsi, bytesIn: 1000, bytesOut: 500 }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'Stop', { sessionId: 'a1', imsi, bytesIn: 3000, bytesOut: 700 }))?.code).toBe(Code.AccountingResponse);
    expect(await usageOf(iccidFor(1))).toBe(3700);
    const { rows } = await sql<{ status: string; rat: string; mcc_mnc: string; cell: { ecgi?: { eci: number } } }>`
      SELECT status, rat, mcc_mnc, cell FROM radius_sessions WHERE acct_session_id = 'a1'`.execute(server.platform.services.db);
    expect(rows[0]).toMatchObject({ status: 'stop', rat: '4G', mcc_mnc: '46000' });
    expect(rows[0]!.cell.ecgi?.eci).toBe(258);
  });

  it('accepts an active SIM and rejects others with the reason', async () => {
    const ok = await gw.access(auth, imsiFor(2));
    expect(ok?.code).toBe(Code.AccessAccept);
    const inventory = await gw.access(auth, imsiFor(4));
    expect(inventory?.code).toBe(Code.AccessReject);
    expect(inventory?.attributes.get(Attr.ReplyMessage)?.toString()).toBe('SIM not activated (inventory)');
    const unknown = await gw.access(auth, '460009999999999');
    expect(unknown?.attributes.get(Attr.ReplyMessage)?.toString()).toBe('unknown SIM');
  });

  it('drops packets from unknown clients, with a wrong secret, or malformed, and counts them', async () => {
    const stranger = await TestGateway.open(SECRET, '127.0.0.2');
    expect(await stranger.accounting(acct, 'Start', { sessionId: 'x', imsi: imsiFor(3) }, SECRET, 300)).toBeUndefined();
    await stranger.close();
    expect(await gw.accounting(acct, 'Start', { sessionId: 'y', imsi: imsiFor(3) }, 'wrong-secret', 300)).toBeUndefined();
    gw.rawSend(Buffer.from([4, 1, 0, 99, 1, 2, 3]), acct);
    const truncated = Buffer.alloc(26);
    truncated.writeUInt8(4, 0);
    truncated.writeUInt16BE(26, 2);
    truncated.writeUInt8(Attr.UserName, 20);
    truncated.writeUInt8(40, 21);
    gw.rawSend(truncated, acct);
    await new Promise((r) => setTimeout(r, 200));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/meridian_radius_packets_dropped_total\{reason="unknown_client"\} [1-9]/);
    expect(metrics).toMatch(/meridian_radius_packets_dropped_total\{reason="bad_authenticator"\} [1-9]/);
    expect(metrics).toMatch(/meridian_radius_packets_dropped_total\{reason="malformed"\} [2-9]/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('sends a Disconnect-Request at once when an online SIM is suspended, and records the ACK', async () => {
    const imsi = imsiFor(3);
    await gw.accounting(acct, 'Start', { sessionId: 'd1', imsi, extra: [] });
    const res = await api('POST', `/sims/${iccidFor(3)}/state`, { state: 'suspended', suspendReason: 'policy' });
    expect(res.status).toBe(200);
    await waitFor(async () => dae.received.length > 0);
    expect(dae.received[0]!.code).toBe(Code.DisconnectRequest);
    expect(dae.received[0]!.attributes.get(Attr.AcctSessionId)?.toString()).toBe('d1');
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(3)}/changes?field=session`)).body.items.length > 0);
    const [record] = (await api('GET', `/sims/${iccidFor(3)}/changes?field=session`)).body.items;
    expect(record).toMatchObject({ status: 'completed', newValue: 'disconnected', oldValue: 'd1' });
    const events = (await api('GET', `/events?type=sim.session_disconnected&subjectId=${iccidFor(3)}`)).body.items;
    expect(events.map((e) => e.data)).toEqual([
      { iccid: iccidFor(3), acctSessionId: 'd1', result: 'disconnected', error: null, reason: record!.reason },
    ]);
    const rejected = await gw.access(auth, imsi);
    expect(rejected?.attributes.get(Attr.ReplyMessage)?.toString()).toBe('SIM suspended (policy)');
  });

  it('records a NAK from the gateway as a failed disconnect', async () => {
    dae.answer = 'nak';
    await gw.accounting(acct, 'Start', { sessionId: 'd2', imsi: imsiFor(2) });
    await api('POST', `/sims/${iccidFor(2)}/state`, { state: 'deactivated' });
    await waitFor(async () => (await api('GET', `/sims/${iccidFor(2)}/changes?field=session`)).body.items.length > 0);
    const [record] = (await api('GET', `/sims/${iccidFor(2)}/changes?field=session`)).body.items;
    expect(record).toMatchObject({ status: 'failed', newValue: 'disconnect_failed' });
    expect(record!.error).toContain('Disconnect-NAK (Error-Cause 503)');
    const [event] = (await api('GET', `/events?type=sim.session_disconnected&subjectId=${iccidFor(2)}`)).body.items;
    expect(event!.data).toMatchObject({ result: 'disconnect_failed', error: record!.error });
    dae.answer = 'ack';
  });

  it('disconnects a SIM the moment its data runs out, once, and suspends it for quota', async () => {
    const { db, usage } = server.platform.services;
    const iccid = iccidFor(5);
    await api('POST', '/sims/imports', simCsv(5, 1));
    await waitFor(async () => (await api('GET', `/sims/${iccid}`)).status === 200);
    await api('POST', `/sims/${iccid}/state`, { state: 'active' });
    const { rows } = await sql<{ id: string }>`SELECT id FROM accounts WHERE parent_id IS NULL`.execute(db);
    const now = new Date();
    await insertZones(db, rows[0]!.id, [{ id: 'CN', name: 'China', countries: ['CN'], networks: [] }], now);
    const plan = createRatePlan({ id: 'cn-1mb', name: '1 MB', effectiveFrom: new Date(now.getTime() - 86_400_000), monthlyFeeMicros: 0, includedBytes: MB, coverageZoneIds: ['CN'], overage: null, cutoffBytes: null });
    await insertPlanVersions(db, rows[0]!.id, [plan], now);
    await sql`UPDATE sims SET plan_id = 'cn-1mb' WHERE iccid = ${iccid}`.execute(db);
    await usage.rating.reloadCatalog();
    await usage.sims.refresh(iccid);
    usage.rating.simsChanged();
    const before = dae.received.length;

    const imsi = imsiFor(5);
    await gw.accounting(acct, 'Start', { sessionId: 'q1', imsi, extra: [attr3gpp(Attr3gpp.SgsnMccMnc, '46000')] });
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 'q1', imsi, bytesIn: 2 * MB });
    await waitFor(async () => (await api('GET', `/sims/${iccid}`)).body.state === 'suspended' && dae.received.length > before);
    await new Promise((r) => setTimeout(r, 300));
    // The rating decision sent the Disconnect-Request; the suspension that followed found it and did not send another.
    expect(dae.received.slice(before).map((p) => p.attributes.get(Attr.AcctSessionId)?.toString())).toEqual(['q1']);
    expect((await api('GET', `/sims/${iccid}`)).body).toMatchObject({ state: 'suspended', suspendReason: 'quota' });
    const changes = (await api('GET', `/sims/${iccid}/changes?field=session`)).body.items;
    expect(changes).toEqual([expect.objectContaining({ status: 'completed', newValue: 'disconnected', oldValue: 'q1', actor: 'system:rating' })]);
  });

  it('activates a test SIM once its test allowance is used up, from the network side', async () => {
    const iccid = iccidFor(4);
    expect((await api('POST', `/sims/${iccid}/state`, { state: 'test', testAllowanceBytes: 5000 })).status).toBe(200);
    await gw.accounting(acct, 'Start', { sessionId: 't1', imsi: imsiFor(4) });
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 't1', imsi: imsiFor(4), bytesIn: 3000 });
    expect((await api('GET', `/sims/${iccid}`)).body.state).toBe('test');
    await gw.accounting(acct, 'InterimUpdate', { sessionId: 't1', imsi: imsiFor(4), bytesIn: 4000, bytesOut: 1500 });
    await waitFor(async () => (await api('GET', `/sims/${iccid}`)).body.state === 'active');
    const [change] = (await api('GET', `/sims/${iccid}/changes?field=state`)).body.items;
    expect(change).toMatchObject({ oldValue: 'test', newValue: 'active', source: 'network', reason: 'test allowance of 5000 bytes used up' });
  });

  it('answers every accepted packet when stopping under load, then stops', async () => {
    const replies = Array.from({ length: 250 }, (_, i) => gw.accounting(acct, 'Start', { sessionId: `stop-${i}`, imsi: imsiFor(1) }));
    await Promise.race(replies);
    await server.stop();
    // A reply sent on a closed socket would fail the run as an unhandled error.
    const answered = (await Promise.all(replies)).filter((p) => p?.code === Code.AccountingResponse).length;
    expect(answered).toBeGreaterThan(0);
  });
});

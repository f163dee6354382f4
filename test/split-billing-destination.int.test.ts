import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPlanVersions, insertZones } from '../src/modules/rating/catalog.repository.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { Code, vendorAttr } from '../src/radius/attributes.ts';
import type { RunningServer } from '../src/server.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { TestGateway } from './support/radius-peer.ts';
import { callApi, startRadiusTestServer, waitUntil } from './support/radius-server.ts';

const KEY = 'mk_splitDestinationTestKey0123456789ab';
const SECRET = 'gateway-secret-split';
/** RFC 5612's enterprise number for documentation: the gateway's own vendor attribute 1 carries the class. */
const VENDOR = 32473;

interface BillLine {
  kind: string;
  trafficClass: string | null;
  bytes: number;
  amount: string;
}

describe.each(testDialects())('split billing by the destination class the gateway reports, on %s', (dialect) => {
  const clock = new ManualClock('2026-03-05T02:00:00Z');
  let server: RunningServer;
  let drop: () => Promise<void>;
  let gw: TestGateway;
  let acct: number;
  let fleet: { id: string; key: string };
  let media: { id: string; key: string };
  let operator: string;
  const api = (method: string, path: string, body?: unknown, key = KEY) => callApi(server, key, method, path, body);
  const db = () => server.platform.services.db;
  const tenant = async (name: string) => {
    const account = await api('POST', '/accounts', { kind: 'enterprise', name });
    const key = await api('POST', '/api-keys', { accountId: account.body.id, name: `${name} key` });
    return { id: account.body.id as string, key: key.body.secret as string };
  };
  const bill = async (accountId: string, key: string) => {
    const list = await api('GET', `/bills?period=2026-03&accountId=${accountId}`, undefined, key);
    expect(list.body.items).toHaveLength(1);
    return (await api('GET', `/bills/${list.body.items[0]!.id as string}`, undefined, key)).body as unknown as { lines: BillLine[] };
  };
  const usageBytes = (lines: BillLine[]) => lines.filter((l) => l.kind !== 'monthly_fee' && l.kind !== 'first_month_fee').reduce((s, l) => s + l.bytes, 0);

  beforeAll(async () => {
    ({ server, drop } = await startRadiusTestServer(dialect, KEY, { clock }));
    acct = server.radius!.acctPort;
    fleet = await tenant('Fleet');
    media = await tenant('Media partner');
    await api('POST', `/sims/imports?accountId=${fleet.id}`, simCsv(1, 1));
    await waitUntil(async () => (await api('GET', '/sims?limit=10')).body.items.length === 1);
    expect((await api('POST', `/sims/${iccidFor(1)}/state`, { state: 'active' })).status).toBe(200);
    const now = clock.now();
    operator = (await sql<{ id: string }>`SELECT id FROM accounts WHERE parent_id IS NULL`.execute(db())).rows[0]!.id;
    await insertZones(db(), operator, [{ id: 'CN', name: 'China', countries: ['CN'], networks: [] }], now);
    gw = await TestGateway.open(SECRET);
  });
  afterAll(async () => {
    await gw?.close();
    await server?.stop();
    await drop?.();
  });

  it('refuses a destination-class attribute it cannot read, and keeps the one it can', async () => {
    const bad = await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET, destinationClassAttribute: 'Filter-Id' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_destination_class_attribute', detail: expect.stringContaining('vsa:VENDOR:TYPE') });
    const created = await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET, destinationClassAttribute: `vsa:${VENDOR}:1` });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ destinationClassAttribute: `vsa:${VENDOR}:1` });
    expect((await api('PATCH', `/gateways/${created.body.id as string}`, { destinationClassAttribute: 'attr:26' })).status).toBe(400);
  });

  it('splits one SIM’s usage to two payers by destination class, from RADIUS and from a CDR file, and bills each', async () => {
    const plan = createRatePlan({
      id: 'split-cn',
      name: 'Split CN',
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      monthlyFeeMicros: 10_000_000,
      includedBytes: MB,
      coverageZoneIds: ['CN'],
      overage: { pricePerMbMicros: 1_000_000, capMicros: null },
      cutoffBytes: null,
      ratingIncrementBytes: 1,
    });
    await insertPlanVersions(db(), operator, [plan], clock.now());
    await server.platform.services.usage.rating.reloadCatalog();
    expect((await api('PUT', `/sims/${iccidFor(1)}/plan`, { planId: 'split-cn' })).status).toBe(200);

    const rule = { accountId: fleet.id, destinationClass: 'video*', trafficClass: 'video', payerAccountId: media.id };
    expect((await api('POST', '/traffic-rules', { ...rule, destinationClass: 'video stream' })).body).toMatchObject({ code: 'invalid_traffic_rule' });
    const created = await api('POST', '/traffic-rules', rule);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ destinationClass: 'video*', apn: null, zoneId: null });
    // Another tenant sees none of the rules.
    expect((await api('GET', '/traffic-rules', undefined, media.key)).body.items).toEqual([]);
    await server.platform.services.usage.rating.reloadCatalog();
    await waitUntil(async () => (await api('GET', `/sims/${iccidFor(1)}`)).body.planId === 'split-cn');

    // RADIUS: a video session (2 MB) and a telemetry session (1 MB) of the same SIM.
    const imsi = imsiFor(1);
    const video = [vendorAttr(VENDOR, 1, 'video.stream')];
    const telemetry = [vendorAttr(VENDOR, 1, 'telemetry')];
    expect((await gw.accounting(acct, 'Start', { sessionId: 'v1', imsi, extra: video }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 'v1', imsi, bytesIn: 2 * MB, extra: video }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'Start', { sessionId: 't1', imsi, extra: telemetry }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 't1', imsi, bytesIn: MB, extra: telemetry }))?.code).toBe(Code.AccountingResponse);

    // CDR: the destination column carries the class.
    const cdr = [
      'record_id,iccid,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn,destination',
      `d-1,${iccidFor(1)},2026-03-06T01:00:00Z,2026-03-06T01:30:00Z,${MB},0,46000,iot.apn,video.live`,
      `d-2,${iccidFor(1)},2026-03-06T02:00:00Z,2026-03-06T02:30:00Z,${MB / 2},0,46000,iot.apn,telemetry`,
    ].join('\n');
    const job = await api('POST', '/usage/cdr-imports', cdr);
    expect(job.status).toBe(202);
    await waitUntil(async () => (await api('GET', `/jobs/${job.body.id as string}`)).body.status === 'completed');
    expect((await api('GET', `/jobs/${job.body.id as string}`)).body.status).toBe('completed');

    const { rows } = await sql<{ source: string; bytes: string; traffic_class: string | null; payer_account_id: string | null }>`
      SELECT source, bytes_in + bytes_out AS bytes, traffic_class, payer_account_id FROM usage_records WHERE iccid = ${iccidFor(1)} ORDER BY id`.execute(db());
    expect(rows.map((r) => [r.source, Number(r.bytes), r.traffic_class, r.payer_account_id])).toEqual([
      ['radius', 2 * MB, 'video', media.id],
      ['radius', MB, null, null],
      ['cdr', MB, 'video', media.id],
      ['cdr', MB / 2, null, null],
    ]);

    clock.set('2026-04-02T00:00:00Z');
    expect((await api('POST', '/bills/runs', { period: '2026-03', accountId: fleet.id })).status).toBe(200);
    expect((await api('POST', '/bills/runs', { period: '2026-03', accountId: media.id })).status).toBe(200);
    const paidByMedia = await bill(media.id, media.key);
    expect(paidByMedia.lines.every((l) => l.trafficClass === 'video')).toBe(true);
    expect(usageBytes(paidByMedia.lines)).toBe(3 * MB);
    const paidByFleet = await bill(fleet.id, fleet.key);
    expect(paidByFleet.lines.some((l) => l.kind === 'monthly_fee' || l.kind === 'first_month_fee')).toBe(true);
    expect(usageBytes(paidByFleet.lines)).toBe(MB + MB / 2);
    expect(paidByFleet.lines.every((l) => l.trafficClass === null)).toBe(true);
  });
});

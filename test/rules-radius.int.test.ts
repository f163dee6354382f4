import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, Code } from '../src/radius/attributes.ts';
import type { RunningServer } from '../src/server.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { TestDae, TestGateway } from './support/radius-peer.ts';
import { callApi, startRadiusTestServer, waitUntil } from './support/radius-server.ts';

const KEY = 'mk_rulesRadiusTestKey0123456789abcdef';
const SECRET = 'gateway-secret-rules';

describe.each(testDialects())('a rule suspending a SIM over RADIUS on %s', (dialect) => {
  let server: RunningServer;
  let drop: () => Promise<void>;
  let gw: TestGateway;
  let dae: TestDae;
  let acct: number;
  let auth: number;
  const api = (method: string, path: string, body?: unknown) => callApi(server, KEY, method, path, body);
  const waitFor = waitUntil;

  beforeAll(async () => {
    ({ server, drop } = await startRadiusTestServer(dialect, KEY));
    ({ authPort: auth, acctPort: acct } = server.radius!);
    dae = await TestDae.open(SECRET);
    expect((await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET, coaPort: dae.port })).status).toBe(201);
    await api('POST', '/sims/imports', simCsv(1, 2));
    await waitFor(async () => (await api('GET', '/sims?limit=10')).body.items.length === 2);
    for (const i of [1, 2]) await api('POST', `/sims/${iccidFor(i)}/state`, { state: 'active' });
    gw = await TestGateway.open(SECRET);
  });
  afterAll(async () => {
    await gw?.close();
    await dae?.close();
    await server?.stop();
    await drop?.();
  });

  it('suspends the SIM when its daily usage passes 1 MB, disconnects its session and rejects it afterwards', async () => {
    const created = await api('POST', '/rules', {
      name: 'over 1 MB a day: suspend',
      scope: { kind: 'sim', iccid: iccidFor(1) },
      trigger: { type: 'usage', period: 'day', megabytes: [1] },
      actions: [{ type: 'suspend', reason: 'daily traffic anomaly' }],
    });
    expect(created.status).toBe(201);
    await server.platform.ruleRuntime.reload();
    const imsi = imsiFor(1);
    expect((await gw.accounting(acct, 'Start', { sessionId: 'r1', imsi }))?.code).toBe(Code.AccountingResponse);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 'r1', imsi, bytesIn: 900_000, bytesOut: 0 }))?.code).toBe(Code.AccountingResponse);
    expect(dae.received.length).toBe(0);
    expect((await gw.accounting(acct, 'InterimUpdate', { sessionId: 'r1', imsi, bytesIn: 1_500_000, bytesOut: 100_000 }))?.code).toBe(Code.AccountingResponse);
    await waitFor(async () => dae.received.length > 0);
    expect(dae.received[0]!.code).toBe(Code.DisconnectRequest);
    expect(dae.received[0]!.attributes.get(Attr.AcctSessionId)?.toString()).toBe('r1');
    const sim = (await api('GET', `/sims/${iccidFor(1)}`)).body;
    expect(sim).toMatchObject({ state: 'suspended', suspendReason: 'rule' });
    const firings = (await api('GET', `/rule-firings?ruleId=${created.body.id as string}`)).body.items;
    expect(firings).toHaveLength(1);
    expect(firings[0]).toMatchObject({ iccid: iccidFor(1), stage: '1', inputs: { usedBytes: 1_600_000 } });
    await waitFor(async () => (await api('GET', `/rule-firings?ruleId=${created.body.id as string}`)).body.items[0]!.status === 'done');
    const rejected = await gw.access(auth, imsi);
    expect(rejected?.code).toBe(Code.AccessReject);
    expect(rejected?.attributes.get(Attr.ReplyMessage)?.toString()).toBe('SIM suspended (rule)');
    expect((await gw.access(auth, imsiFor(2)))?.code).toBe(Code.AccessAccept);
  });
});

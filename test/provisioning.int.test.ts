import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProvisioningAdapter, SIGNATURE_HEADER, signProvisioningBody, TIMESTAMP_HEADER } from '../src/modules/provisioning/http.adapter.ts';
import type { ProvisioningRequest } from '../src/modules/provisioning/provisioning.ts';
import { iccidFor, simCsv } from './support/iccid.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { testDialects } from './support/databases.ts';

const SECRET = 'carrier-shared-secret-0123';

/** A carrier endpoint: checks the signature, refuses one ICCID with 500, stalls on another. */
function startCarrier(): Promise<{ server: Server; url: string; received: ProvisioningRequest[]; badSignatures: number }> {
  const state = { received: [] as ProvisioningRequest[], badSignatures: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ts = String(req.headers[TIMESTAMP_HEADER]);
      if (req.headers[SIGNATURE_HEADER] !== signProvisioningBody(SECRET, ts, body)) {
        state.badSignatures++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const request = JSON.parse(body) as ProvisioningRequest;
      state.received.push(request);
      if (request.iccid === iccidFor(2)) res.writeHead(500).end('HLR busy');
      else if (request.iccid === iccidFor(3)) setTimeout(() => res.writeHead(200).end('late'), 2000);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/provision`,
        get received() {
          return state.received;
        },
        get badSignatures() {
          return state.badSignatures;
        },
      }),
    ),
  );
}

describe('HTTP provisioning adapter', () => {
  let carrier: Awaited<ReturnType<typeof startCarrier>>;
  beforeAll(async () => {
    carrier = await startCarrier();
  });
  afterAll(() => new Promise<void>((r) => carrier.server.close(() => r())));

  const request = (iccid: string): ProvisioningRequest => ({ requestId: 'chg_1', iccid, imsi: '460000000000001', msisdn: null, from: 'inventory', to: 'active', reason: null });

  it('sends a signed JSON request and succeeds on 2xx', async () => {
    const adapter = new HttpProvisioningAdapter({ url: carrier.url, secret: SECRET, timeoutMs: 1000 });
    await adapter.provision(request(iccidFor(1)));
    expect(carrier.received.at(-1)).toMatchObject({ iccid: iccidFor(1), to: 'active', requestId: 'chg_1' });
    expect(carrier.badSignatures).toBe(0);
  });

  it('fails with the status and body on a non-2xx answer, and on a timeout', async () => {
    const adapter = new HttpProvisioningAdapter({ url: carrier.url, secret: SECRET, timeoutMs: 300 });
    await expect(adapter.provision(request(iccidFor(2)))).rejects.toThrow('provisioning endpoint answered 500: HLR busy');
    await expect(adapter.provision(request(iccidFor(3)))).rejects.toThrow('no answer within 300 ms');
    const wrongSecret = new HttpProvisioningAdapter({ url: carrier.url, secret: 'another-secret-value', timeoutMs: 1000 });
    await expect(wrongSecret.provision(request(iccidFor(1)))).rejects.toThrow('answered 401');
  });

  describe.each(testDialects())('through the platform on %s', (dialect) => {
    let t: TestPlatform;
    beforeAll(async () => {
      t = await startTestPlatform(dialect, { PROVISIONING_ADAPTER: 'http', PROVISIONING_HTTP_URL: carrier.url, PROVISIONING_HTTP_SECRET: SECRET, PROVISIONING_HTTP_TIMEOUT_MS: '500' }, { realProvisioning: true });
      await t.api('POST', '/api/v1/sims/imports', simCsv(1, 3));
      await t.drainJobs();
    });
    afterAll(() => t?.close());

    it('commits the state only when the carrier accepted it', async () => {
      const ok = await t.api('POST', `/api/v1/sims/${iccidFor(1)}/state`, { state: 'active' });
      expect(ok.statusCode).toBe(200);
      const refused = await t.api('POST', `/api/v1/sims/${iccidFor(2)}/state`, { state: 'active' });
      expect(refused.statusCode).toBe(502);
      expect(refused.json()).toMatchObject({ code: 'provisioning_failed', detail: 'provisioning endpoint answered 500: HLR busy' });
      expect((await t.api('GET', `/api/v1/sims/${iccidFor(2)}`)).json().state).toBe('inventory');
      const [failed] = (await t.api('GET', `/api/v1/sims/${iccidFor(2)}/changes`)).json().items;
      expect(failed).toMatchObject({ status: 'failed', error: 'provisioning endpoint answered 500: HLR busy' });
      expect((await t.api('GET', '/api/v1/provisioning/simulator')).json().code).toBe('simulator_not_active');
    });
  });
});

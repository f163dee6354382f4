import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import type { GatewayChange } from '../src/modules/gateways/gateway.service.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { testDialects } from './support/databases.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const SECRET = 'abSecretValue-123';

describe.each(testDialects())('gateways on %s', (dialect) => {
  let t: TestPlatform;
  let reseller: { accountId: string; key: string };
  let readOnlyKey: string;
  const changes: GatewayChange[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    reseller = await createTenant(t, 'reseller', 'R1');
    readOnlyKey = (await t.api('POST', '/api/v1/api-keys', { name: 'ro', role: 'read_only' })).json().secret;
    t.platform.services.gateways.onGatewaysChanged((c) => changes.push(c));
  });
  afterAll(() => t?.close());

  it('registers a gateway in the operator account; the secret is only ever shown masked', async () => {
    const res = await t.api('POST', '/api/v1/gateways', { name: 'pgw-sz-1', address: '10.1.0.0/16', secret: SECRET });
    expect(res.statusCode, res.body).toBe(201);
    const gw = res.json();
    expect(gw).toMatchObject({ accountId: t.operatorAccountId, name: 'pgw-sz-1', address: '10.1.0.0/16', coaPort: 3799, secretMasked: 'ab****' });
    expect(gw.id).toMatch(/^gw_/);
    expect(res.body).not.toContain(SECRET);
    expect(gw).not.toHaveProperty('secret');

    const [one, list] = await Promise.all([t.api('GET', `/api/v1/gateways/${gw.id}`), t.api('GET', '/api/v1/gateways')]);
    expect(one.json()).toEqual(gw);
    expect(list.json().items).toEqual([gw]);
    expect(`${one.body}${list.body}`).not.toContain(SECRET);
    expect(changes.at(-1)).toMatchObject({ kind: 'created', gateway: { id: gw.id, secret: SECRET } });
  });

  it('stores addresses in canonical form and takes a CoA port', async () => {
    const res = await t.api('POST', '/api/v1/gateways', { name: 'pgw-v6', address: '2001:0DB8:0000::0001', secret: 'v6-secret-value', coaPort: 1700 });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ address: '2001:db8::1', coaPort: 1700, secretMasked: 'v6****' });
  });

  it('rejects invalid addresses with an error naming the allowed forms', async () => {
    for (const address of ['pgw.example.com', '10.1.2.300', '10.1.0.0/33', '2001:db8::1::2', 'fe80::1%eth0']) {
      const res = await t.api('POST', '/api/v1/gateways', { name: 'bad', address, secret: SECRET });
      expect(res.statusCode, address).toBe(400);
      expect(res.json().code).toBe('invalid_gateway_address');
      expect(res.json().detail).toContain('IPv4 address (10.1.2.3), an IPv6 address (2001:db8::1) or a CIDR block');
    }
    const hostBits = await t.api('POST', '/api/v1/gateways', { name: 'bad', address: '10.2.3.4/16', secret: SECRET });
    expect(hostBits.json()).toMatchObject({ status: 400, code: 'invalid_gateway_address' });
    expect(hostBits.json().detail).toContain('the block is 10.2.0.0/16');
  });

  it('rejects secrets outside 8-128 characters, bad ports and unknown fields', async () => {
    const cases: Record<string, unknown>[] = [
      { name: 'short', address: '10.9.0.1', secret: '1234567' },
      { name: 'long', address: '10.9.0.1', secret: 'x'.repeat(129) },
      { name: 'port0', address: '10.9.0.1', secret: SECRET, coaPort: 0 },
      { name: 'port', address: '10.9.0.1', secret: SECRET, coaPort: 65536 },
      { name: 'extra', address: '10.9.0.1', secret: SECRET, vendor: 'x' },
      { name: '', address: '10.9.0.1', secret: SECRET },
    ];
    for (const body of cases) {
      const res = await t.api('POST', '/api/v1/gateways', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('refuses an address already registered, in any spelling', async () => {
    const same = await t.api('POST', '/api/v1/gateways', { name: 'dup', address: '10.1.0.0/16', secret: SECRET });
    expect(same.statusCode).toBe(409);
    expect(same.json().code).toBe('gateway_address_in_use');
    const mapped = await t.api('POST', '/api/v1/gateways', { name: 'dup', address: '::ffff:10.1.0.0/112', secret: SECRET });
    expect(mapped.json().code).toBe('gateway_address_in_use');
    const v6 = await t.api('POST', '/api/v1/gateways', { name: 'dup', address: '2001:db8:0::1', secret: SECRET });
    expect(v6.json().code).toBe('gateway_address_in_use');
  });

  it('updates name, address, secret and port; the new secret is stored as given and still masked', async () => {
    const gw = (await t.api('POST', '/api/v1/gateways', { name: 'pgw-bj', address: '192.0.2.10', secret: 'first-secret' })).json();
    const res = await t.api('PATCH', `/api/v1/gateways/${gw.id}`, { name: 'pgw-bj-1', address: '192.0.2.0/24', secret: 'xy-second-secret', coaPort: 3800 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: gw.id, name: 'pgw-bj-1', address: '192.0.2.0/24', secretMasked: 'xy****', coaPort: 3800 });
    expect(res.body).not.toContain('xy-second-secret');
    const stored = (await t.platform.services.gateways.listAllGateways()).find((g) => g.id === gw.id);
    expect(stored).toMatchObject({ secret: 'xy-second-secret', coaPort: 3800 });
    expect(changes.at(-1)).toMatchObject({ kind: 'updated', gateway: { id: gw.id } });

    const taken = await t.api('PATCH', `/api/v1/gateways/${gw.id}`, { address: '10.1.0.0/16' });
    expect(taken.json().code).toBe('gateway_address_in_use');
    const same = await t.api('PATCH', `/api/v1/gateways/${gw.id}`, { address: '192.0.2.0/24' });
    expect(same.statusCode).toBe(200);
    const bad = await t.api('PATCH', `/api/v1/gateways/${gw.id}`, { address: '192.0.2.0/240' });
    expect(bad.json().code).toBe('invalid_gateway_address');
  });

  it('lists every gateway for the RADIUS server, and the most specific one matches a source address', async () => {
    const { compileGatewayTable } = await import('../src/modules/gateways/gateway.ts');
    await t.api('POST', '/api/v1/gateways', { name: 'pgw-sz-1-host', address: '10.1.7.7', secret: SECRET });
    const all = await t.platform.services.gateways.listAllGateways();
    const table = compileGatewayTable(all);
    expect(table.match('10.1.7.7')?.name).toBe('pgw-sz-1-host');
    expect(table.match('10.1.7.8')?.name).toBe('pgw-sz-1');
    expect(table.match('192.0.2.99')?.name).toBe('pgw-bj-1');
    expect(table.match('198.51.100.1')).toBeUndefined();
  });

  it('deletes a gateway and tells the listeners', async () => {
    const gw = (await t.api('POST', '/api/v1/gateways', { name: 'temp', address: '198.51.100.0/24', secret: SECRET })).json();
    const del = await t.api('DELETE', `/api/v1/gateways/${gw.id}`);
    expect(del.statusCode).toBe(204);
    expect(changes.at(-1)).toMatchObject({ kind: 'deleted', gateway: { id: gw.id } });
    expect((await t.api('GET', `/api/v1/gateways/${gw.id}`)).json().code).toBe('gateway_not_found');
    expect((await t.api('DELETE', `/api/v1/gateways/${gw.id}`)).statusCode).toBe(404);
    // The address is free again.
    expect((await t.api('POST', '/api/v1/gateways', { name: 'again', address: '198.51.100.0/24', secret: SECRET })).statusCode).toBe(201);
  });

  it('only operator admins change gateways; other accounts do not see them', async () => {
    const gw = (await t.api('GET', '/api/v1/gateways')).json().items[0];
    const asReseller = (method: string, url: string, body?: unknown) => t.api(method, url, body, { key: reseller.key });
    expect((await asReseller('POST', '/api/v1/gateways', { name: 'mine', address: '203.0.113.1', secret: SECRET })).statusCode).toBe(403);
    expect((await asReseller('GET', '/api/v1/gateways')).json().items).toEqual([]);
    expect((await asReseller('GET', `/api/v1/gateways/${gw.id}`)).statusCode).toBe(404);
    expect((await asReseller('PATCH', `/api/v1/gateways/${gw.id}`, { name: 'x' })).statusCode).toBe(403);
    expect((await asReseller('DELETE', `/api/v1/gateways/${gw.id}`)).statusCode).toBe(403);

    const readOnly = (method: string, url: string, body?: unknown) => t.api(method, url, body, { key: readOnlyKey });
    expect((await readOnly('GET', `/api/v1/gateways/${gw.id}`)).statusCode).toBe(200);
    const denied = await readOnly('PATCH', `/api/v1/gateways/${gw.id}`, { name: 'x' });
    expect(denied.json()).toMatchObject({ status: 403, code: 'forbidden' });
    expect(denied.json().detail).toContain('system:write');
  });
});

describe('meridian gateways (command line)', () => {
  const BIN = fileURLToPath(new URL('../bin/meridian.js', import.meta.url));
  const KEY = 'mk_gateway_cli_test_0123456789abcdef';
  let server: RunningServer;

  const cli = (args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MERIDIAN_URL: server.url, MERIDIAN_API_KEY: KEY }, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: 'memory://',
      LOG_LEVEL: 'silent',
      MERIDIAN_API_KEY: KEY,
      MERIDIAN_ADMIN_PASSWORD: 'correct horse battery staple',
      RADIUS_AUTH_PORT: '0',
      RADIUS_ACCT_PORT: '0',
      RADIUS_HOST: '127.0.0.1',
    });
    server = await startServer(config, { print: () => {} });
  });
  afterAll(() => server?.stop());

  it('adds, lists, updates and removes a gateway', async () => {
    const added = await cli(['gateways', 'add', '--name', 'pgw-1', '--address', '10.20.0.0/16', '--secret-stdin', '--coa-port', '1700', '--json'], 'cli-secret-1\n');
    expect(added.code, added.stderr).toBe(0);
    const gw = JSON.parse(added.stdout);
    expect(gw).toMatchObject({ name: 'pgw-1', address: '10.20.0.0/16', coaPort: 1700, secretMasked: 'cl****' });

    const list = await cli(['gateways', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ADDRESS\s+COA PORT\s+SECRET/);
    expect(list.stdout).toContain('10.20.0.0/16');
    expect(list.stdout).not.toContain('cli-secret-1');

    const updated = await cli(['gateways', 'update', gw.id, '--name', 'pgw-1b', '--secret', 'zz-new-secret']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/Name\s+pgw-1b/);
    expect(updated.stdout).toMatch(/Secret\s+zz\*\*\*\*/);

    const removed = await cli(['gateways', 'remove', gw.id]);
    expect(removed.stdout).toBe(`gateway ${gw.id} removed\n`);
    expect((await cli(['gateways', 'show', gw.id])).stderr).toContain('error: gateway_not_found:');
  });

  it('reports wrong usage and API errors with their exit codes', async () => {
    const noSecret = await cli(['gateways', 'add', '--name', 'x', '--address', '10.0.0.1']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('--secret');
    const nothing = await cli(['gateways', 'update', 'gw_x']);
    expect(nothing.code).toBe(2);
    const badPort = await cli(['gateways', 'add', '--name', 'x', '--address', '10.0.0.1', '--secret', 'long-enough', '--coa-port', '0']);
    expect(badPort.code).toBe(2);
    const badAddress = await cli(['gateways', 'add', '--name', 'x', '--address', 'nowhere', '--secret', 'long-enough']);
    expect(badAddress.code).toBe(1);
    expect(badAddress.stderr).toContain('error: invalid_gateway_address:');
  });
});

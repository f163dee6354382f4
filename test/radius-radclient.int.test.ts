/**
 * The whole server driven by FreeRADIUS's radclient (Debian package freeradius-utils): Access-Request, then
 * Accounting Start, Interim-Update and Stop with 3GPP attributes from FreeRADIUS's own dictionaries.
 */
import { spawn, spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';

const KEY = 'mk_radclientTestKey0123456789abcdefg';
const SECRET = 'radclient-secret';
const haveRadclient = spawnSync('radclient', ['-v']).status === 0;

function radclient(port: number, command: 'acct' | 'auth', input: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', ['-x', '-r', '3', '-t', '2', '-D', '/usr/share/freeradius', `127.0.0.1:${port}`, command, SECRET]);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

describe('the server with radclient', () => {
  it.runIf(process.env.CI === 'true' && !haveRadclient)('has radclient installed (CI installs freeradius-utils)', () => {
    throw new Error('radclient not found under CI=true: apt-get install -y freeradius-utils');
  });

  describe.skipIf(!haveRadclient)('', () => {
    let server: RunningServer;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);

    beforeAll(async () => {
      server = await startServer(
        loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', MERIDIAN_API_KEY: KEY, RADIUS_HOST: '127.0.0.1', RADIUS_AUTH_PORT: '0', RADIUS_ACCT_PORT: '0' }),
        { print: () => {} },
      );
      await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET });
      const job = await api('POST', '/sims/imports', simCsv(1, 2));
      for (let i = 0; i < 50 && (await api('GET', `/jobs/${String(job.id)}`)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
      await api('POST', `/sims/${iccidFor(1)}/state`, { state: 'active' });
    });
    afterAll(() => server?.stop());

    it('accepts an active SIM and rejects one in inventory with the reason', async () => {
      const ok = await radclient(server.radius!.authPort, 'auth', `User-Name = "${imsiFor(1)}"\nUser-Password = "x"\nCalling-Station-Id = "1440000000001"\n3GPP-IMSI = "${imsiFor(1)}"\n`);
      expect(ok.output).toContain('Access-Accept');
      const no = await radclient(server.radius!.authPort, 'auth', `User-Name = "${imsiFor(2)}"\nUser-Password = "x"\n3GPP-IMSI = "${imsiFor(2)}"\n`);
      expect(no.output).toContain('Access-Reject');
      expect(no.output).toContain('SIM not activated (inventory)');
    });

    it('counts Start, Interim-Update and Stop from radclient, with 3GPP attributes', async () => {
      const common = `User-Name = "${imsiFor(1)}"\nAcct-Session-Id = "rc-1"\n3GPP-IMSI = "${imsiFor(1)}"\n3GPP-SGSN-MCC-MNC = "46000"\n3GPP-RAT-Type = EUTRAN\nCalled-Station-Id = "iot.example"\nFramed-IP-Address = 10.9.8.7\n`;
      const port = server.radius!.acctPort;
      expect((await radclient(port, 'acct', `${common}Acct-Status-Type = Start\n`)).output).toContain('Accounting-Response');
      const interim = await radclient(port, 'acct', `${common}Acct-Status-Type = Interim-Update\nAcct-Input-Octets = 1000\nAcct-Output-Octets = 2000\n`);
      expect(interim.code).toBe(0);
      const stop = await radclient(port, 'acct', `${common}Acct-Status-Type = Stop\nAcct-Input-Octets = 5000\nAcct-Output-Octets = 2500\nAcct-Input-Gigawords = 1\nAcct-Terminate-Cause = User-Request\n`);
      expect(stop.output).toContain('Accounting-Response');
      const db = server.platform.services.db;
      const { rows } = await sql<{ total: string }>`SELECT sum(bytes_in + bytes_out)::text AS total FROM usage_records WHERE iccid = ${iccidFor(1)}`.execute(db);
      expect(Number(rows[0]!.total)).toBe(2 ** 32 + 5000 + 2500);
      const session = await sql<{ status: string; apn: string; rat: string; framed_ip: string; stop_cause: string }>`
        SELECT status, apn, rat, framed_ip, stop_cause FROM radius_sessions WHERE acct_session_id = 'rc-1'`.execute(db);
      expect(session.rows[0]).toMatchObject({ status: 'stop', apn: 'iot.example', rat: '4G', framed_ip: '10.9.8.7' });
    });
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open-database.ts';
import { AcctStatus, Attr, Attr3gpp, attr, attr3gpp, Code } from '../src/radius/attributes.ts';
import { decodePacket, encodeRequest } from '../src/radius/codec.ts';
import { freshDatabase, testDialects } from './support/databases.ts';
import { imsiFor, simCsv } from './support/iccid.ts';

const KEY = 'mk_crashTestKey0123456789abcdefghijk';
const SECRET = 'crash-test-secret';
const SESSIONS = 40;
const INTERIMS = 30;
const BIN = new URL('../bin/meridian.js', import.meta.url).pathname;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Starts `meridian start` as its own process and resolves once it listens. */
function startProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Meridian is listening')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out.slice(-2000)}`)));
  });
}

describe.each(testDialects())('killed with SIGKILL under accounting load (%s)', (dialect) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('records exactly what the gateway counted, neither less nor more', async () => {
    const db = await freshDatabase(dialect);
    const dataDir = dialect === 'pglite' ? mkdtempSync(join(tmpdir(), 'meridian-crash-')) : db.dataDir;
    cleanups.push(() => db.drop(), () => rmSync(dataDir, { recursive: true, force: true }));
    const [httpPort, acctPort, authPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
      LOG_LEVEL: 'info',
      MERIDIAN_API_KEY: KEY,
      RADIUS_HOST: '127.0.0.1',
      RADIUS_ACCT_PORT: String(acctPort),
      RADIUS_AUTH_PORT: String(authPort),
    };
    let child = await startProcess(env);
    cleanups.push(() => void child.kill('SIGKILL'));
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    await api('POST', '/gateways', { name: 'pgw', address: '127.0.0.1', secret: SECRET });
    const job = await api('POST', '/sims/imports', simCsv(1, SESSIONS));
    for (let i = 0; i < 100 && (await api('GET', `/jobs/${String(job.id)}`)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));

    // The gateway: one session per SIM, Start, interims with growing counters, Stop; every request is
    // retransmitted until answered, like a real gateway.
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    const pending = new Map<number, () => void>();
    socket.on('message', (msg) => {
      const p = decodePacket(msg);
      if (p.code === Code.AccountingResponse) pending.get(p.identifier)?.();
    });
    let nextId = 0;
    let answered = 0;
    const finalCounters = new Map<number, number>();
    const sendUntilAnswered = (attrs: ReturnType<typeof attr>[]) =>
      new Promise<void>((resolve) => {
        const id = nextId++ % 256;
        const packet = encodeRequest(Code.AccountingRequest, id, attrs, SECRET);
        const timer = setInterval(() => socket.send(packet, acctPort, '127.0.0.1'), 150);
        pending.set(id, () => {
          answered++;
          clearInterval(timer);
          pending.delete(id);
          resolve();
        });
        socket.send(packet, acctPort, '127.0.0.1');
      });
    const runSession = async (n: number) => {
      let bytesIn = 0;
      let bytesOut = 0;
      const steps: [keyof typeof AcctStatus, number][] = [['Start', 0], ...Array.from({ length: INTERIMS }, (): [keyof typeof AcctStatus, number] => ['InterimUpdate', 0]), ['Stop', 0]];
      for (const [status] of steps) {
        if (status !== 'Start') {
          bytesIn += 1000 + ((n * 7919) % 5000);
          bytesOut += 300 + ((n * 104729) % 700);
        }
        await sendUntilAnswered([
          attr(Attr.AcctStatusType, AcctStatus[status]),
          attr(Attr.AcctSessionId, `crash-${n}`),
          attr(Attr.UserName, imsiFor(n)),
          attr3gpp(Attr3gpp.Imsi, imsiFor(n)),
          attr(Attr.AcctInputOctets, bytesIn),
          attr(Attr.AcctOutputOctets, bytesOut),
          attr(Attr.AcctInputGigawords, 0),
          attr(Attr.AcctOutputGigawords, 0),
        ]);
        await new Promise((r) => setTimeout(r, 10 + (n % 7) * 5));
      }
      finalCounters.set(n, bytesIn + bytesOut);
    };
    const load = Promise.all(Array.from({ length: SESSIONS }, (_, i) => runSession(i + 1)));

    // Kill the server twice in the middle of the load, each time starting it again on the same database.
    const packets = SESSIONS * (INTERIMS + 2);
    while (answered < packets / 5) await new Promise((r) => setTimeout(r, 5));
    expect(answered).toBeLessThan(packets / 2); // still mid-way
    for (let kill = 0; kill < 2; kill++) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      child = await startProcess(env);
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(finalCounters.size).toBeLessThan(SESSIONS);
    await load;
    expect(finalCounters.size).toBe(SESSIONS);

    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const opened = await openDatabase({ url: db.url, dataDir });
    const { rows } = await sql<{ iccid_count: number; total: string }>`
      SELECT count(DISTINCT iccid)::int AS iccid_count, coalesce(sum(bytes_in + bytes_out), 0)::text AS total FROM usage_records`.execute(opened.db);
    await opened.close();
    const expected = [...finalCounters.values()].reduce((a, b) => a + b, 0);
    expect(rows[0]!.iccid_count).toBe(SESSIONS);
    expect(Number(rows[0]!.total)).toBe(expected);
  }, 120_000);
});

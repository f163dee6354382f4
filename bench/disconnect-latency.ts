/**
 * Enforcement latency: from the Interim-Update that uses up a SIM's data to the Disconnect-Request (RFC 5176) for its
 * session arriving at the gateway, while the server carries a steady accounting load.
 *
 * The real server (startServer in its own process) on PostgreSQL, with the benchmark's 100,000 active SIMs
 * (bench/support/meridian-radius.ts). The last `BENCH_VICTIMS` SIMs get a plan of 1 MB a month with no overage
 * (suspended when used up, 套内用尽关停); the other SIMs carry the background load (bench/radius-load.ts) at
 * `BENCH_RATE` requests/s, half the sustained rate measured by bench/radius.ts. Meanwhile each victim SIM, at
 * `BENCH_VICTIM_RATE` a second, starts a session and sends one Interim-Update with 2 MB; the benchmark plays the
 * gateway's Dynamic Authorization server (the gateway's CoA port), answers each Disconnect-Request with a
 * Disconnect-ACK and times it from the moment that Interim-Update left. Rating, the suspension (provisioned, written,
 * recorded as a change) and the disconnect all happen in the server, as in production.
 *
 * Peer measured in the same run: the same server's Accounting-Response latency to the background load (the p99 a
 * packet waits anyway), so the ratio says what enforcement adds on top of an ordinary answer.
 *
 *   npm run bench:disconnect
 *   BENCH_RATE=4000 BENCH_VICTIMS=500 npm run bench:disconnect
 *
 * Settings: BENCH_RATE (5000), BENCH_SECONDS (20), BENCH_VICTIMS (400), BENCH_VICTIM_RATE (20 per second),
 * BENCH_SIMS (100000), BENCH_DATABASE_URL (postgres://postgres:postgres@127.0.0.1:5432). Loopback only.
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../src/db/open-database.ts';
import { AcctStatus, Attr, Attr3gpp, attr, attr3gpp, Code } from '../src/radius/attributes.ts';
import { decodePacket, encodeReply, encodeRequest } from '../src/radius/codec.ts';
import { insertPlanVersions, insertZones } from '../src/modules/rating/catalog.repository.ts';
import { createRatePlan, MB } from '../src/modules/rating/rate-plan.ts';
import { iccidFor, imsiFor } from '../test/support/iccid.ts';
import { AccountingLoad, describeStep } from './radius-load.ts';
import { databaseUrl, intEnv } from './support/env.ts';
import { dropStore, prepareStore, startMeridian } from './support/meridian-radius.ts';
import { heading, int, line, machine, percentile } from './support/report.ts';

const SIMS = intEnv('BENCH_SIMS', 100_000);
const RATE = intEnv('BENCH_RATE', 5000);
const SECONDS = intEnv('BENCH_SECONDS', 20);
const VICTIMS = intEnv('BENCH_VICTIMS', 400);
const VICTIM_RATE = intEnv('BENCH_VICTIM_RATE', 20);
const TARGET_MS = 50;
const SECRET = 'bench-radius-secret';
const PORTS = { acctPort: 21833, authPort: 21832 };
const OUT_DIR = fileURLToPath(new URL('./out/disconnect', import.meta.url));
const PLAN = 'bench-1mb-block';

if (VICTIMS >= SIMS / 2) throw new Error('BENCH_VICTIMS must be less than half of BENCH_SIMS');
const firstVictim = SIMS - VICTIMS + 1;

heading('Enforcement: Interim-Update that uses up the data -> Disconnect-Request at the gateway, under accounting load');
line(`machine: ${machine()}`);
line(`background: ${int(RATE)} Accounting-Requests/s over ${int(firstVictim - 1)} SIMs for ${SECONDS} s; ${int(VICTIMS)} SIMs on a 1 MB plan without overage, ${VICTIM_RATE} a second`);

const { store } = await prepareStore('postgres', SIMS, PORTS, OUT_DIR);
if (store.dialect !== 'postgres') throw new Error('PostgreSQL only');
// The plan and its SIMs go in before the server starts: it loads the catalogue and the SIMs' plans at start-up.
{
  const d = await openDatabase({ url: databaseUrl(store.database), dataDir: 'memory://' });
  await migrateToLatest(d.db);
  const { rows } = await sql<{ id: string }>`SELECT id FROM accounts WHERE parent_id IS NULL`.execute(d.db);
  const operator = rows[0]!.id;
  const now = new Date();
  await insertZones(d.db, operator, [{ id: 'bench-cn', name: 'China', countries: ['CN'], networks: [] }], now);
  const plan = createRatePlan({ id: PLAN, name: '1 MB, suspended when used up', effectiveFrom: new Date(now.getTime() - 86_400_000), monthlyFeeMicros: 1_000_000, includedBytes: MB, coverageZoneIds: ['bench-cn'], overage: null, cutoffBytes: null });
  await insertPlanVersions(d.db, operator, [plan], now);
  const victims = Array.from({ length: VICTIMS }, (_, i) => iccidFor(firstVictim + i));
  await sql`UPDATE sims SET plan_id = ${PLAN} WHERE iccid = any(${victims}::text[])`.execute(d.db);
  await d.close();
}

// The gateway's Dynamic Authorization server: records when each Disconnect-Request arrives and acknowledges it.
const coa = createSocket('udp4');
const arrived = new Map<string, number>();
coa.on('message', (msg, rinfo) => {
  const at = performance.now();
  const p = decodePacket(msg);
  if (p.code !== Code.DisconnectRequest) return;
  const i = p.attributes.find(Attr.UserName);
  const imsi = i < 0 ? '' : p.attributes.value(i).toString('latin1');
  if (!arrived.has(imsi)) arrived.set(imsi, at);
  coa.send(encodeReply(p, Code.DisconnectAck, [], SECRET), rinfo.port, rinfo.address);
});
await new Promise<void>((r) => coa.bind(0, '127.0.0.1', () => r()));
const coaPort = coa.address().port;

const m = await startMeridian({ store, ...PORTS });
try {
  const gw = await m.api('POST', '/gateways', { name: 'bench-pgw', address: '127.0.0.1', secret: SECRET, coaPort });
  if (gw.status !== 201) throw new Error(`gateway registration refused: ${gw.status} ${JSON.stringify(gw.body)}`);
  const load = await AccountingLoad.open({ host: '127.0.0.1', port: PORTS.acctPort, secret: SECRET }, { sims: firstVictim - 1 });
  line(`  warm-up  ${describeStep(await load.run(Math.round(RATE / 2), 5))}`);

  // The victims' gateway socket: Start, then the Interim-Update past the allowance, each retransmitted until answered.
  const victim = createSocket('udp4');
  await new Promise<void>((r) => victim.bind(0, '127.0.0.1', () => r()));
  const waiting = new Map<number, () => void>();
  victim.on('message', (msg) => waiting.get(decodePacket(msg).identifier)?.());
  let nextId = 0;
  const send = (attrs: ReturnType<typeof attr>[]): Promise<number> => {
    const id = nextId++ % 256;
    const packet = encodeRequest(Code.AccountingRequest, id, attrs, SECRET);
    const sentAt = performance.now();
    return new Promise((resolve) => {
      const timer = setInterval(() => victim.send(packet, PORTS.acctPort, '127.0.0.1'), 1000);
      waiting.set(id, () => {
        clearInterval(timer);
        waiting.delete(id);
        resolve(sentAt);
      });
      victim.send(packet, PORTS.acctPort, '127.0.0.1');
    });
  };
  const sentAt = new Map<string, number>();
  const exhaust = async (serial: number) => {
    const imsi = imsiFor(serial);
    const base = [attr(Attr.AcctSessionId, `quota-${serial}`), attr(Attr.UserName, imsi), attr3gpp(Attr3gpp.Imsi, imsi), attr(Attr.NasIpAddress, Buffer.from([127, 0, 0, 1]))];
    await send([attr(Attr.AcctStatusType, AcctStatus.Start), ...base]);
    const interim = send([attr(Attr.AcctStatusType, AcctStatus.InterimUpdate), ...base, attr(Attr.AcctInputOctets, 2 * MB), attr(Attr.AcctOutputOctets, 0)]);
    sentAt.set(imsi, performance.now());
    await interim;
  };

  const background = load.run(RATE, SECONDS);
  const victimsDone = (async () => {
    const jobs: Promise<void>[] = [];
    const spacing = 1000 / VICTIM_RATE;
    const started = performance.now();
    for (let i = 0; i < VICTIMS && performance.now() - started < (SECONDS - 2) * 1000; i++) {
      const due = started + i * spacing;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      jobs.push(exhaust(firstVictim + i));
    }
    await Promise.all(jobs);
  })();
  const step = await background;
  await victimsDone;
  await new Promise((r) => setTimeout(r, 3000));
  victim.close();
  await load.close();

  const latencies: number[] = [];
  let missing = 0;
  for (const [imsi, t0] of sentAt) {
    const t1 = arrived.get(imsi);
    if (t1 === undefined) missing++;
    else latencies.push(t1 - t0);
  }
  latencies.sort((a, b) => a - b);
  line(`  background ${describeStep(step)}`);
  const p99 = percentile(latencies, 99);
  line(
    `  enforcement: ${int(latencies.length)} SIMs disconnected${missing ? `, ${missing} Disconnect-Requests NOT received` : ''}; Interim-Update -> Disconnect-Request ` +
      `p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(latencies.at(-1) ?? Number.NaN).toFixed(1)} ms ` +
      `(target p99 < ${TARGET_MS} ms: ${p99 < TARGET_MS && missing === 0 ? 'meets target' : 'MISSES target'})`,
  );
  line(`  peer: Accounting-Response p99 of the background load ${step.p99.toFixed(1)} ms; enforcement p99 / answer p99 ${(p99 / step.p99).toFixed(2)}x`);
} finally {
  await m.stop();
  coa.close();
  await dropStore(store);
}

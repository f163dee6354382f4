/**
 * Usage engine write path alone: no UDP and no codec, the engine's `accounting()` called directly with decoded
 * packets, so the figure is what the group commit and the database sustain. SIMs are written straight into a fresh
 * database (one account, N active SIMs), then every SIM runs sessions of Start, K Interim-Updates and Stop, with up
 * to `BENCH_WINDOW` packets awaiting their commit at once (as a busy RADIUS server would have).
 *
 * Peer measured in the same run on the same database: the plain floor of the same work, one multi-row INSERT of the
 * packets' usage records per batch of the same size, nothing else (no sessions, no SIM figures, no hourly roll-up).
 *
 *   npm run bench:engine
 *   BENCH_SIMS=20000 BENCH_INTERIMS=2 BENCH_ONLY=postgres npm run bench:engine
 *
 * Settings: BENCH_SIMS (20000), BENCH_INTERIMS (2), BENCH_WINDOW (4000 packets in flight), BENCH_LANES (2 group commits
 * in flight on PostgreSQL), BENCH_ONLY=postgres,pglite,
 * BENCH_DATABASE_URL (postgres://postgres:postgres@127.0.0.1:5432; the benchmark creates meridian_bench_engine there).
 */
import { sql } from 'kysely';
import pino from 'pino';
import { migrateToLatest, openDatabase, type OpenDatabase } from '../src/db/open-database.ts';
import { SimIndex } from '../src/engine/sim-index.ts';
import { UsageEngine } from '../src/engine/usage-engine.ts';
import type { AccountingInput } from '../src/modules/usage/accounting.ts';
import { systemClock } from '../src/shared/clock.ts';
import { dropDatabase, intEnv, recreateDatabase, selected } from './support/env.ts';
import { heading, int, line, machine, ratio } from './support/report.ts';

const SIMS = intEnv('BENCH_SIMS', 20_000);
const INTERIMS = intEnv('BENCH_INTERIMS', 2);
const WINDOW = intEnv('BENCH_WINDOW', 4000);
const LANES = intEnv('BENCH_LANES', 2);
const DATABASE = 'meridian_bench_engine';
const parts = selected(['postgres', 'pglite'] as const);

async function open(kind: 'postgres' | 'pglite'): Promise<OpenDatabase> {
  const url = kind === 'postgres' ? await recreateDatabase(DATABASE) : undefined;
  const store = await openDatabase({ url, dataDir: 'memory://' });
  await migrateToLatest(store.db);
  await sql`INSERT INTO accounts (id, path, kind, name) VALUES ('acc_bench', 'acc_bench/', 'operator', 'Bench')`.execute(store.db);
  await sql`
    INSERT INTO sims (iccid, account_id, state, msisdn, state_changed_at, updated_at, activated_at)
    SELECT 'I' || g, 'acc_bench', 'active', NULL, now(), now(), now() FROM generate_series(1, ${SIMS}) g`.execute(store.db);
  await sql`INSERT INTO sim_profiles (imsi, iccid, position, active) SELECT 'P' || g, 'I' || g, 0, true FROM generate_series(1, ${SIMS}) g`.execute(store.db);
  return store;
}

const packet = (serial: number, phase: number, round: number): AccountingInput => {
  const status = phase === 0 ? 'start' : phase === INTERIMS + 1 ? 'stop' : 'interim';
  return {
    status,
    acctSessionId: `s${serial}-${round}`,
    multiSessionId: null,
    userName: null,
    imsi: `P${serial}`,
    msisdn: null,
    bytesIn: phase * 20_000,
    bytesOut: phase * 5_000,
    hasGigawords: false,
    sessionSeconds: phase * 300,
    eventTime: null,
    apn: 'iot.bench',
    framedIp: '10.0.0.1',
    rat: '4G',
    mccMnc: '46000',
    cell: phase === 0 ? { mcc: '460', mnc: '00', tac: 1, eci: serial } : null,
    imei: phase === 0 ? '8654320012345601' : null,
    nasIp: '127.0.0.1',
    chargingId: null,
    terminateCause: status === 'stop' ? 'user-request' : null,
  };
};

/** Feeds every packet with at most WINDOW awaiting their commit; returns packets per second and batch figures. */
async function runEngine(store: OpenDatabase): Promise<{ perSecond: number; batches: number; meanBatch: number }> {
  let batches = 0;
  let batched = 0;
  const engine = new UsageEngine(store.db, systemClock, new SimIndex(store.db), pino({ level: 'silent' }), { maxBatch: 2000, maxQueue: 50_000, sessionTimeoutSeconds: 1800, lanes: store.dialect === 'postgres' ? LANES : 1, run: store.run }, {
    onBatch: (size) => {
      batches++;
      batched += size;
    },
  });
  await engine.start();
  const gateway = { id: 'gw_bench', accountId: 'acc_bench' };
  const total = SIMS * (INTERIMS + 2);
  let next = 0;
  const started = performance.now();
  // NOTE: packets of one SIM go in order (phase by phase); SIMs interleave, so every batch mixes many SIMs.
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    let done = 0;
    const pump = () => {
      while (inFlight < WINDOW && next < total) {
        const phase = Math.floor(next / SIMS);
        const serial = (next % SIMS) + 1;
        next++;
        inFlight++;
        engine.accounting(gateway, packet(serial, phase, 0)).then(() => {
          inFlight--;
          if (++done === total) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: total / seconds, batches, meanBatch: batched / Math.max(1, batches) };
}

/** The peer: the same number of usage rows, in batches of the engine's mean size, as plain multi-row INSERTs. */
async function runFloor(store: OpenDatabase, batchSize: number): Promise<number> {
  const total = SIMS * (INTERIMS + 2);
  const size = Math.max(1, Math.round(batchSize));
  const started = performance.now();
  for (let i = 0; i < total; i += size) {
    const n = Math.min(size, total - i);
    const iccids = Array.from({ length: n }, (_, k) => `I${((i + k) % SIMS) + 1}`);
    await sql`
      INSERT INTO usage_records (account_id, iccid, session_id, source, start_at, end_at, bytes_in, bytes_out, mcc_mnc, apn, created_at)
      SELECT 'acc_bench', u, u || '-s', 'radius', now(), now(), 20000, 5000, '46000', 'iot.bench', now() FROM unnest(${iccids}::text[]) u`.execute(store.db);
  }
  return total / ((performance.now() - started) / 1000);
}

heading('Usage engine write path: accounting() to durable commit, no UDP, no codec');
line(`machine: ${machine()}`);
line(`workload: ${int(SIMS)} SIMs, Start + ${INTERIMS} Interim-Updates + Stop each (${int(SIMS * (INTERIMS + 2))} packets), up to ${int(WINDOW)} in flight`);
for (const kind of ['postgres', 'pglite'] as const) {
  if (!parts.has(kind)) continue;
  const store = await open(kind);
  try {
    const e = await runEngine(store);
    const floor = await runFloor(store, e.meanBatch);
    line(`  ${kind.padEnd(9)} engine ${int(e.perSecond)} packets/s in ${int(e.batches)} commits of ${e.meanBatch.toFixed(0)} packets on average`);
    line(`  ${''.padEnd(9)} peer: plain INSERT of the usage rows in batches of that size ${int(floor)} rows/s; engine/peer ${ratio(e.perSecond, floor)}`);
  } finally {
    await store.close();
    if (kind === 'postgres') await dropDatabase(DATABASE);
  }
}

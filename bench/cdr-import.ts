/**
 * CDR import benchmark: a CDR file through the real server (bench/support/serve.ts in a process of its own) and its
 * API, POST /api/v1/usage/cdr-imports, until the job has finished, on PostgreSQL and on PGlite; the peer is a plain
 * COPY of the same rows into a bare table of the same PostgreSQL.
 *
 *   npx tsx bench/cdr-import.ts                                 1,000,000 records over 100,000 SIMs
 *   BENCH_CDR_RECORDS=200000 npx tsx bench/cdr-import.ts        a quick run
 *   BENCH_ONLY=postgres,copy npx tsx bench/cdr-import.ts
 *
 * Settings: BENCH_CDR_SIMS (default 100,000), BENCH_CDR_RECORDS (1,000,000), BENCH_PGLITE_CDR_RECORDS (200,000),
 * BENCH_FRESH=1 (rebuild the SIM bases), BENCH_SERVER_PROF=DIR (V8 CPU profile of the server during the import).
 *
 * The SIMs are imported and activated through the API once into a base (PostgreSQL database meridian_bench_cdr_base,
 * a PGlite directory under bench/out/cdr/); every run imports into a fresh copy of it, so the file is new to it.
 * After the run the store must hold exactly the file's records and bytes.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/open-database.ts';
import { baseUrl, checkpoint, databaseNote, databaseUrl, dropDatabase, intEnv, recreateDatabase, selected, setDatabaseNote } from './support/env.ts';
import { describeLoad, startLoadMeter, waitForQuietMachine } from './support/load.ts';
import { type MeridianProcess, type Store, startMeridian } from './support/meridian-radius.ts';
import { timedCopyPeer } from './support/pg-copy.ts';
import { heading, int, line, machine, progress, ratio, seconds, verdict } from './support/report.ts';
import { fleetCsv, iccidFor, imsiFor } from './support/sims.ts';

const SIMS = intEnv('BENCH_CDR_SIMS', 100_000);
const RECORDS = intEnv('BENCH_CDR_RECORDS', 1_000_000);
const PGLITE_RECORDS = intEnv('BENCH_PGLITE_CDR_RECORDS', 200_000);
const TARGET_PER_SECOND = 100_000;
// NOTE: ports of their own, so that a RADIUS benchmark running meanwhile elsewhere does not collide with this one.
const PORTS = { acctPort: 21813, authPort: 21812 };
const OUT = fileURLToPath(new URL('./out/cdr', import.meta.url));

const parts = selected(['postgres', 'copy', 'pglite'] as const);

const CDR_HEADER = 'record_id,iccid,imsi,start_time,end_time,bytes_up,bytes_down,mcc_mnc,apn';

/**
 * A CDR file of `count` records over SIMs 1..sims, every record id distinct: record n is for SIM (n % sims) + 1,
 * every tenth names the SIM by IMSI instead of ICCID, and the records cover one day in time order.
 */
function cdrFile(count: number, sims: number): { csv: string; bytes: number } {
  const lines = new Array<string>(count + 1);
  lines[0] = CDR_HEADER;
  const dayStart = Date.UTC(2026, 10, 20);
  const stepMs = 86_400_000 / count;
  let bytes = 0;
  for (let n = 0; n < count; n++) {
    const serial = (n % sims) + 1;
    const start = dayStart + Math.floor(n * stepMs);
    const end = start + 60_000 + (n % 30) * 60_000;
    const up = (n * 7919) % 100_000;
    const down = (n * 104_729) % 1_000_000;
    bytes += up + down;
    const sim = n % 10 === 9 ? `,${imsiFor(serial)}` : `${iccidFor(serial)},`;
    lines[n + 1] =
      `cdr-20261120-${String(n).padStart(8, '0')},${sim},${new Date(start).toISOString()},${new Date(end).toISOString()},${up},${down},46000,iot.example`;
  }
  return { csv: `${lines.join('\n')}\n`, bytes };
}

/** The first `count` records of a file made by `cdrFile`, with their bytes. */
function firstRecords(file: string, count: number): { csv: string; bytes: number } {
  let at = -1;
  let bytes = 0;
  for (let i = 0; i <= count; i++) {
    const next = file.indexOf('\n', at + 1);
    if (i > 0) {
      const cells = file.slice(at + 1, next).split(',');
      bytes += Number(cells[5]) + Number(cells[6]);
    }
    at = next;
  }
  return { csv: file.slice(0, at + 1), bytes };
}

interface Job {
  id: string;
  status: string;
  done: number;
  total: number;
  failed: number;
  summary: Record<string, number>;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

/** Polls a job until it ends; `every` ms between polls. */
async function awaitJob(m: MeridianProcess, id: string, what: string, every = 100): Promise<Job> {
  const started = performance.now();
  let told = started;
  for (;;) {
    const { body } = await m.api('GET', `/jobs/${id}`);
    const job = body as unknown as Job;
    if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') return job;
    if (performance.now() - told > 10_000) {
      progress(`${what}: ${int(job.done)} / ${int(job.total)} after ${seconds(performance.now() - started)}`);
      told = performance.now();
    }
    if (performance.now() - started > 60 * 60_000) throw new Error(`${what} took more than an hour`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function expectCompleted(m: MeridianProcess, what: string, res: { status: number; body: Record<string, unknown> }): Promise<Job> {
  if (res.status !== 202) throw new Error(`${what} refused: ${res.status} ${JSON.stringify(res.body)}`);
  const job = await awaitJob(m, String(res.body.id), what, 500);
  if (job.status !== 'completed' || job.failed !== 0) throw new Error(`${what} did not complete cleanly: ${JSON.stringify(job)}`);
  return job;
}

/** Imports SIMs 1..count through the API and activates them with one bulk job. */
async function loadFleet(m: MeridianProcess, count: number): Promise<void> {
  await expectCompleted(m, `import of ${int(count)} SIMs`, await m.api('POST', '/sims/imports', fleetCsv(count)));
  const bulk = await m.api('POST', '/bulk-jobs', {
    selection: { filter: { state: ['inventory'] } },
    change: { state: { state: 'active' } },
    reason: 'CDR benchmark fleet',
  });
  await expectCompleted(m, `activation of ${int(count)} SIMs`, bulk);
}

const baseNote = (count: number): string => `meridian-bench cdr sims=${count} active`;

/** A fresh store holding `count` active SIMs and no usage, copied from a base that is built on first use. */
async function prepareStore(kind: Store['dialect'], count: number): Promise<{ store: Store; origin: string }> {
  const fresh = process.env.BENCH_FRESH === '1';
  let origin = 'copied from a base of an earlier run';
  const build = async (store: Store) => {
    progress(`building the SIM base: ${int(count)} SIMs through the API`);
    const m = await startMeridian({ store, ...PORTS });
    try {
      await loadFleet(m, count);
    } finally {
      await m.stop();
    }
    origin = 'copied from a base built just now through the API';
  };
  if (kind === 'postgres') {
    const base = 'meridian_bench_cdr_base';
    const run = 'meridian_bench_cdr';
    if (fresh || (await databaseNote(base)) !== baseNote(count)) {
      await recreateDatabase(base);
      await build({ dialect: 'postgres', database: base });
      await setDatabaseNote(base, baseNote(count));
    }
    await recreateDatabase(run, base);
    return { store: { dialect: 'postgres', database: run }, origin: `${origin} (${base})` };
  }
  const base = join(OUT, 'pglite-base');
  const run = join(OUT, 'pglite-run');
  const noteFile = join(base, 'bench-note.txt');
  if (fresh || !existsSync(noteFile) || readFileSync(noteFile, 'utf8') !== baseNote(count)) {
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    await build({ dialect: 'pglite', dir: join(base, 'data') });
    writeFileSync(noteFile, baseNote(count));
  }
  rmSync(run, { recursive: true, force: true });
  cpSync(base, run, { recursive: true });
  return { store: { dialect: 'pglite', dir: join(run, 'data') }, origin: `${origin} (${base})` };
}

/** What the store holds after the run (opened once the server has stopped). */
async function storeTotals(store: Store): Promise<{ records: number; bytes: number; hourlyRecords: number; hourlyBytes: number; autovacuum: string }> {
  const database = await openDatabase(store.dialect === 'postgres' ? { url: databaseUrl(store.database), dataDir: 'memory://' } : { dataDir: store.dir });
  try {
    const { rows } = await sql<{ records: number; bytes: string; hourly_records: string; hourly_bytes: string }>`
      SELECT (SELECT count(*) FROM usage_records WHERE source = 'cdr')::int AS records,
             (SELECT coalesce(sum(bytes_in + bytes_out), 0) FROM usage_records WHERE source = 'cdr')::text AS bytes,
             (SELECT coalesce(sum(records), 0) FROM usage_hourly)::text AS hourly_records,
             (SELECT coalesce(sum(bytes_in + bytes_out), 0) FROM usage_hourly)::text AS hourly_bytes`.execute(database.db);
    const r = rows[0]!;
    // NOTE: autovacuum workers come and go during the run, so the load meter counts them under "other processes".
    const vacuums = await sql<{ relname: string; vacuums: number; analyzes: number }>`
      SELECT relname, autovacuum_count::int AS vacuums, autoanalyze_count::int AS analyzes FROM pg_stat_user_tables
      WHERE autovacuum_count + autoanalyze_count > 0 ORDER BY relname`.execute(database.db);
    const autovacuum = vacuums.rows.map((v) => `${v.relname} (vacuum ${v.vacuums}, analyze ${v.analyzes})`).join(', ') || 'none';
    return { records: r.records, bytes: Number(r.bytes), hourlyRecords: Number(r.hourly_records), hourlyBytes: Number(r.hourly_bytes), autovacuum };
  } finally {
    await database.close();
  }
}

/**
 * Watches PostgreSQL for autovacuum workers while a measurement runs. They come and go, so the load meter counts
 * their CPU under "other processes"; this names the tables they worked on, in any database.
 */
function watchAutovacuum(): { stop(): Promise<string> } {
  const seen = new Set<string>();
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const r = await client.query<{ what: string }>(
        "SELECT datname || ': ' || regexp_replace(query, '^autovacuum: ', '') AS what FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND query <> ''",
      );
      for (const row of r.rows) seen.add(row.what);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await client.end();
  })().catch(() => undefined);
  return {
    async stop() {
      running = false;
      await loop;
      return seen.size ? [...seen].join('; ') : 'none seen';
    },
  };
}

interface CdrRun {
  uploadMs: number;
  runMs: number;
  totalMs: number;
  perSecond: number;
}

/** One import of `file` into a fresh store through the API; checks the job's summary and the store's content. */
async function importThroughApi(kind: Store['dialect'], file: { csv: string; bytes: number }, count: number): Promise<CdrRun> {
  const { store, origin } = await prepareStore(kind, SIMS);
  line(`  store: ${int(SIMS)} active SIMs, no usage; ${origin}`);
  const profileDir = process.env.BENCH_SERVER_PROF;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const m = await startMeridian({ store, ...PORTS, cpuProfileDir: profileDir });
  let run: CdrRun;
  let job: Job;
  try {
    if (kind === 'postgres') await checkpoint();
    await waitForQuietMachine();
    const meter = startLoadMeter(m.pid);
    const vacuums = watchAutovacuum();
    const started = performance.now();
    const res = await m.api('POST', '/usage/cdr-imports', file.csv);
    const uploaded = performance.now();
    if (res.status !== 202) throw new Error(`CDR import refused: ${res.status} ${JSON.stringify(res.body)}`);
    job = await awaitJob(m, String(res.body.id), `CDR import of ${int(count)} records`);
    const finished = performance.now();
    const load = meter.stop();
    const vacuumed = await vacuums.stop();
    const totalMs = finished - started;
    const jobMs = job.startedAt && job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : Number.NaN;
    run = { uploadMs: uploaded - started, runMs: jobMs, totalMs, perSecond: count / (totalMs / 1000) };
    line(`  upload (POST, header check, file stored as job input)  ${seconds(run.uploadMs)}`);
    line(`  job run (startedAt to finishedAt)                      ${seconds(run.runMs)}`);
    line(`  total, POST until the job reads completed              ${seconds(run.totalMs)}`);
    line(`  ${describeLoad(load)}`);
    line(`  autovacuum workers during the run: ${vacuumed}`);
  } finally {
    await m.stop();
  }
  if (job.status !== 'completed') throw new Error(`CDR import ended ${job.status}: ${job.error ?? ''}`);
  const s = job.summary;
  const totals = await storeTotals(store);
  const exact =
    s.rows === count && s.recorded === count && s.duplicates === 0 && s.failed === 0 && s.bytes === file.bytes &&
    totals.records === count && totals.bytes === file.bytes && totals.hourlyRecords === count && totals.hourlyBytes === file.bytes;
  line(`  job summary: rows ${int(s.rows ?? 0)}, recorded ${int(s.recorded ?? 0)}, duplicates ${int(s.duplicates ?? 0)}, failed ${int(s.failed ?? 0)}, bytes ${int(s.bytes ?? 0)}`);
  line(`  store: usage_records ${int(totals.records)} holding ${int(totals.bytes)} bytes; usage_hourly ${int(totals.hourlyRecords)} records, ${int(totals.hourlyBytes)} bytes`);
  line(`  autovacuum of this database, as counted by PostgreSQL at the end: ${totals.autovacuum}`);
  line(`  check against the file (${int(count)} records, ${int(file.bytes)} bytes): ${exact ? 'exact' : 'MISMATCH'}`);
  line(`  throughput: ${int(run.perSecond)} records/s${kind === 'postgres' ? `   target >= ${int(TARGET_PER_SECOND)} records/s: ${verdict(run.perSecond >= TARGET_PER_SECOND)}` : ''}`);
  if (!exact) process.exitCode = 1;
  if (process.env.BENCH_KEEP !== '1') {
    if (store.dialect === 'postgres') await dropDatabase(store.database);
    else rmSync(join(store.dir, '..'), { recursive: true, force: true });
  }
  return run;
}

async function versionOf(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ v: string }>("SELECT 'PostgreSQL ' || current_setting('server_version') AS v");
    return r.rows[0]?.v ?? 'PostgreSQL';
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const server = new URL(baseUrl());
  server.password = server.password ? '***' : '';
  line(`Meridian CDR import benchmark, ${new Date().toISOString()}`);
  line(`machine: ${machine()}`);
  line(`PostgreSQL: ${server.toString()}; PGlite: embedded, under ${OUT}`);

  const maxCount = Math.max(parts.has('pglite') ? PGLITE_RECORDS : 0, parts.has('postgres') || parts.has('copy') ? RECORDS : 0);
  const t = performance.now();
  const full = cdrFile(maxCount, SIMS);
  line(
    `CDR file: ${int(maxCount)} records over ${int(SIMS)} SIMs (one in ten by IMSI), ${(full.csv.length / 2 ** 20).toFixed(1)} MiB, generated in ${seconds(performance.now() - t)}`,
  );
  const fileOf = (count: number) => (count === maxCount ? full : firstRecords(full.csv, count));

  let pgRun: CdrRun | undefined;
  let copyMs: number | undefined;
  if (parts.has('postgres') || parts.has('copy')) {
    const peerDb = 'meridian_bench_cdr_peer';
    const url = await recreateDatabase(peerDb);
    const version = await versionOf(url);
    if (parts.has('copy')) {
      heading(`Peer: plain COPY of the same ${int(RECORDS)} rows into a bare typed table (no keys, no indexes), ${version}`);
      copyMs = await timedCopyPeer(
        url,
        'bench_cdr_copy_peer',
        'record_id text, iccid text, imsi text, start_time timestamptz, end_time timestamptz, bytes_up bigint, bytes_down bigint, mcc_mnc text, apn text',
        Buffer.from(fileOf(RECORDS).csv),
        RECORDS,
      );
      line(`  COPY ... FROM STDIN (FORMAT csv)  ${seconds(copyMs)}  ${int(RECORDS / (copyMs / 1000))} rows/s`);
    }
    await dropDatabase(peerDb);
    if (parts.has('postgres')) {
      heading(`PostgreSQL: ${int(RECORDS)} CDR records through POST /api/v1/usage/cdr-imports, ${version}`);
      pgRun = await importThroughApi('postgres', fileOf(RECORDS), RECORDS);
    }
    if (pgRun && copyMs !== undefined) {
      const copyRate = RECORDS / (copyMs / 1000);
      line(`  ratio import / COPY: ${ratio(pgRun.perSecond, copyRate)} (COPY is ${ratio(copyRate, pgRun.perSecond)} faster)`);
    }
  }

  if (parts.has('pglite')) {
    heading(`PGlite: ${int(PGLITE_RECORDS)} CDR records through POST /api/v1/usage/cdr-imports (embedded, one connection, data on disk)`);
    const run = await importThroughApi('pglite', fileOf(PGLITE_RECORDS), PGLITE_RECORDS);
    if (pgRun) line(`  ratio PGlite / PostgreSQL: ${ratio(run.perSecond, pgRun.perSecond)}`);
  }
  line();
}

await main();

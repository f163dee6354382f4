/**
 * Import benchmark: a CSV of valid SIMs through the real import path (createPlatform on a fresh database,
 * bootstrapOperator, SimImportService.startImport, JobRunner.settle), on PostgreSQL and on PGlite, with a plain
 * COPY of the same rows into a bare table of the same PostgreSQL as the peer.
 *
 *   npx tsx bench/import.ts                      1,000,000 SIMs (BENCH_SIMS; BENCH_PGLITE_SIMS for PGlite)
 *   BENCH_SIMS=50000 npx tsx bench/import.ts     a quick run
 *   BENCH_ONLY=postgres,copy npx tsx bench/import.ts
 *
 * The PostgreSQL database (meridian_bench_import) is kept for bench/api.ts; PGlite runs in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { bootstrapOperator } from '../src/modules/accounts/bootstrap.ts';
import { createPlatform } from '../src/platform.ts';
import { baseUrl, checkpoint, IMPORT_DATABASE, importNote, intEnv, recreateDatabase, selected, setDatabaseNote } from './support/env.ts';
import { describeLoad, type LoadReport, startLoadMeter, waitForQuietMachine } from './support/load.ts';
import { timedCopyPeer } from './support/pg-copy.ts';
import { heading, int, line, machine, progress, ratio, seconds, verdict } from './support/report.ts';
import { fleetCsv } from './support/sims.ts';

const SIMS = intEnv('BENCH_SIMS', 1_000_000);
const PGLITE_SIMS = intEnv('BENCH_PGLITE_SIMS', SIMS);
const TARGET_PER_SECOND = 20_000;
const DB_NAME = IMPORT_DATABASE;

const parts = selected(['postgres', 'copy', 'pglite'] as const);

interface ImportRun {
  queuedMs: number;
  runMs: number;
  totalMs: number;
  perSecond: number;
  rows: Record<string, number>;
  load: LoadReport | undefined;
}

/** One import of `csv` (`count` rows) into a fresh platform; verifies that every SIM landed. */
async function importThroughJob(env: Record<string, string>, csv: string, count: number): Promise<ImportRun> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const platform = await createPlatform(config);
  try {
    const { db, auth, imports, jobs } = platform.services;
    const boot = await bootstrapOperator(db, auth, {
      ...config.bootstrap,
      adminPassword: 'benchmark-only-password',
      timezone: config.defaultTimezone,
    });
    const principal = await auth.authenticateApiKey(boot.apiKey!);

    await waitForQuietMachine();
    const meter = startLoadMeter();
    const started = performance.now();
    const job = await imports.startImport(principal, csv, { dryRun: false });
    const queued = performance.now();
    const ticker = setInterval(() => {
      jobs.getJob(principal, job.id).then(
        (j) => progress(`${int(j.done)} / ${int(count)} rows after ${seconds(performance.now() - started)}`),
        () => undefined,
      );
    }, 10_000);
    try {
      await platform.runner.settle();
    } finally {
      clearInterval(ticker);
    }
    const finished = performance.now();
    const load = meter.stop();

    const done = await jobs.getJob(principal, job.id);
    if (done.status !== 'completed' || done.summary.created !== count || done.failed !== 0) {
      throw new Error(`import did not complete cleanly: ${JSON.stringify({ status: done.status, error: done.error, summary: done.summary })}`);
    }
    const counts = await sql<{ sims: number; sim_profiles: number; change_records: number; job_results: number }>`
      SELECT (SELECT count(*) FROM sims)::int AS sims, (SELECT count(*) FROM sim_profiles)::int AS sim_profiles,
             (SELECT count(*) FROM change_records)::int AS change_records, (SELECT count(*) FROM job_results)::int AS job_results`.execute(db);
    const rows = counts.rows[0]!;
    if (rows.sims !== count) throw new Error(`expected ${count} SIMs in the database, found ${rows.sims}`);
    const totalMs = finished - started;
    return { queuedMs: queued - started, runMs: finished - queued, totalMs, perSecond: count / (totalMs / 1000), rows: { ...rows }, load };
  } finally {
    await platform.close();
  }
}

function printRun(r: ImportRun, count: number, target?: number): void {
  line(`  queue the job (header check, CSV stored as job input)  ${seconds(r.queuedMs)}`);
  line(`  run the job (parse, validate, write in 5,000-row chunks) ${seconds(r.runMs)}`);
  line(`  total                                                  ${seconds(r.totalMs)}`);
  line(`  rows written: ${Object.entries(r.rows).map(([t, n]) => `${t} ${int(n)}`).join(', ')} (${(Object.values(r.rows).reduce((a, b) => a + b, 0) / count).toFixed(1)} per SIM)`);
  line(`  ${describeLoad(r.load)}`);
  line(`  throughput: ${int(r.perSecond)} SIMs/s${target ? `   target >= ${int(target)} SIMs/s: ${verdict(r.perSecond >= target)}` : ''}`);
}

async function main(): Promise<void> {
  const server = new URL(baseUrl());
  server.password = server.password ? '***' : '';
  line(`Meridian import benchmark, ${new Date().toISOString()}`);
  line(`machine: ${machine()}`);
  line(`PostgreSQL: ${server.toString()} (database ${DB_NAME}); PGlite: embedded, temporary directory`);

  const maxCount = Math.max(parts.has('pglite') ? PGLITE_SIMS : 0, parts.has('postgres') || parts.has('copy') ? SIMS : 0);
  const t = performance.now();
  const fullCsv = fleetCsv(maxCount);
  line(`CSV: ${int(maxCount)} SIMs (iccid with Luhn check digit, imsi, msisdn, batch, labels), ${(fullCsv.length / 2 ** 20).toFixed(1)} MiB, generated in ${seconds(performance.now() - t)}`);
  const csvOf = (count: number): string => (count === maxCount ? fullCsv : fullCsv.slice(0, nthNewline(fullCsv, count + 1) + 1));

  let pgRun: ImportRun | undefined;
  let copyMs: number | undefined;
  if (parts.has('postgres') || parts.has('copy')) {
    const url = await recreateDatabase(DB_NAME);
    const version = await versionOf(url);
    if (parts.has('copy')) {
      heading(`Peer: plain COPY of the same ${int(SIMS)} rows into a bare table (no keys, no indexes), ${version}`);
      copyMs = await timedCopyPeer(url, 'bench_copy_peer', 'iccid text, imsi text, msisdn text, batch text, labels text', Buffer.from(csvOf(SIMS)), SIMS);
      line(`  COPY ... FROM STDIN (FORMAT csv)  ${seconds(copyMs)}  ${int(SIMS / (copyMs / 1000))} rows/s`);
    }
    if (parts.has('postgres')) {
      heading(`PostgreSQL: ${int(SIMS)} SIMs through the import job, ${version}`);
      await checkpoint();
      pgRun = await importThroughJob({ DATABASE_URL: url }, csvOf(SIMS), SIMS);
      printRun(pgRun, SIMS, TARGET_PER_SECOND);
      await setDatabaseNote(DB_NAME, importNote(SIMS));
      line(`  database ${DB_NAME} kept (bench/api.ts reuses it)`);
    }
    if (pgRun && copyMs !== undefined) {
      const copyRate = SIMS / (copyMs / 1000);
      line(`  ratio import / COPY: ${ratio(pgRun.perSecond, copyRate)} (COPY is ${ratio(copyRate, pgRun.perSecond)} faster)`);
    }
  }

  if (parts.has('pglite')) {
    heading(`PGlite: ${int(PGLITE_SIMS)} SIMs through the import job (embedded, one connection, data on disk)`);
    const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-pglite-'));
    try {
      const run = await importThroughJob({ DATA_DIR: dir }, csvOf(PGLITE_SIMS), PGLITE_SIMS);
      printRun(run, PGLITE_SIMS);
      if (pgRun) line(`  ratio PGlite / PostgreSQL: ${ratio(run.perSecond, pgRun.perSecond)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  line();
}

function nthNewline(text: string, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) {
    at = text.indexOf('\n', at + 1);
    if (at < 0) return text.length - 1;
  }
  return at;
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

await main();

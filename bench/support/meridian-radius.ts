/**
 * Meridian as the server of the RADIUS accounting benchmark: the real server (startServer, via bench/support/serve.ts)
 * in a process of its own, on PostgreSQL or PGlite, with N SIMs imported and activated through the API
 * (POST /api/v1/sims/imports, POST /api/v1/bulk-jobs) and the gateway registered (POST /api/v1/gateways).
 *
 * The SIMs are loaded once into a base (a PostgreSQL database used as template, or a PGlite directory) and each run
 * starts from a fresh copy of it, so every run sees the same fleet and empty session and usage tables, and the
 * server loads every SIM into memory at start-up as it would in production.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/db/open-database.ts';
import { insertPlanVersions, insertZones } from '../../src/modules/rating/catalog.repository.ts';
import { createRatePlan, GB, MB } from '../../src/modules/rating/rate-plan.ts';
import { insertRule } from '../../src/modules/rules/rule.repository.ts';
import { RuleDefinitionSchema } from '../../src/modules/rules/rule.ts';
import { BENCH_RULE_DEFINITIONS } from './bench-rules.ts';
import { databaseNote, databaseUrl, dropDatabase, recreateDatabase, setDatabaseNote } from './env.ts';
import { progress } from './report.ts';
import type { ServeReady } from './serve.ts';
import { fleetCsv, iccidFor } from './sims.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Where a Meridian server keeps its data: a PostgreSQL database or a PGlite directory. */
export type Store = { dialect: 'postgres'; database: string } | { dialect: 'pglite'; dir: string };

export interface MeridianProcess {
  pid: number;
  ready: ServeReady;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export interface MeridianServerOptions {
  store: Store;
  acctPort: number;
  authPort: number;
  /** Directory for a V8 CPU profile of the server (node --cpu-prof), when wanted. */
  cpuProfileDir?: string;
}

/** Starts `meridian`'s server (startServer) in a child process and waits until it listens. */
export async function startMeridian(o: MeridianServerOptions): Promise<MeridianProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.DATA_DIR;
  Object.assign(env, {
    ...(o.store.dialect === 'postgres' ? { DATABASE_URL: databaseUrl(o.store.database) } : { DATA_DIR: o.store.dir }),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    RADIUS_ENABLED: 'true',
    RADIUS_HOST: '127.0.0.1',
    RADIUS_ACCT_PORT: String(o.acctPort),
    RADIUS_AUTH_PORT: String(o.authPort),
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  });
  const child: ChildProcess = fork(fileURLToPath(new URL('./serve.ts', import.meta.url)), [], {
    cwd: repoRoot,
    execArgv: [
      '--import',
      'tsx',
      ...(o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : []),
      // NOTE: extra Node/V8 flags for the server only, e.g. BENCH_SERVER_NODE_ARGS="--trace-gc".
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    ],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<ServeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Meridian did not start within 300 s')), 300_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as ServeReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Meridian exited with code ${code} before it was ready`));
    });
  });
  const api: MeridianProcess['api'] = async (method, path, body) => {
    // NOTE: a GET is tried again when the connection breaks (a kept-alive socket closed by the server meanwhile).
    for (let attempt = 1; method === 'GET' && attempt < 5; attempt++) {
      try {
        return await call(method, path, body);
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    return call(method, path, body);
  };
  const call: MeridianProcess['api'] = async (method, path, body) => {
    const res = await fetch(`${ready.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ready.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: ((await res.json().catch(() => ({}))) ?? {}) as Record<string, unknown> };
  };
  return {
    pid: child.pid!,
    ready,
    api,
    async stop() {
      if (child.exitCode !== null) return;
      child.send('stop');
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The server's RADIUS counters from /metrics (series name with labels → value). */
export async function radiusCounters(m: MeridianProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${m.ready.url}/metrics`)).text();
  const counters = new Map<string, number>();
  for (const row of text.split('\n')) {
    const match = /^(meridian_radius_[a-z_]+_total(?:\{[^}]*\})?) (\S+)$/.exec(row);
    if (match) counters.set(match[1]!, Number(match[2]));
  }
  return counters;
}

/** The counters as one line: received, answered, duplicates, drops by reason. */
export function describeCounters(c: Map<string, number>): string {
  const sum = (prefix: string) => [...c].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
  const drops = [...c].filter(([k, v]) => k.startsWith('meridian_radius_packets_dropped_total') && v > 0).map(([k, v]) => `${/reason="([^"]+)"/.exec(k)?.[1] ?? k} ${v.toLocaleString('en-US')}`);
  return (
    `server counters: received ${sum('meridian_radius_packets_received_total').toLocaleString('en-US')}, answered ${sum('meridian_radius_replies_total').toLocaleString('en-US')}, ` +
    `retransmissions recognised ${sum('meridian_radius_duplicates_total').toLocaleString('en-US')}, dropped ${drops.length ? drops.join(', ') : '0'}`
  );
}

/** Waits (at most `maxS`) until the server has stopped answering, i.e. its queue of accepted packets is empty. */
export async function waitUntilIdle(m: MeridianProcess, maxS = 90): Promise<void> {
  const answered = async () => [...(await radiusCounters(m))].filter(([k]) => k.startsWith('meridian_radius_replies_total') || k.startsWith('meridian_radius_packets_dropped_total')).reduce((a, [, v]) => a + v, 0);
  const deadline = performance.now() + maxS * 1000;
  let last = await answered();
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await answered();
    if (now === last) return;
    last = now;
  }
  progress(`Meridian still answering after ${maxS} s`);
}

/** Waits for a job to finish; throws unless it completed without failures. */
async function awaitJob(m: MeridianProcess, job: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
  const started = performance.now();
  let last = 0;
  for (;;) {
    const { body } = await m.api('GET', `/jobs/${String(job.id)}`);
    if (body.status === 'completed' || body.status === 'failed' || body.status === 'cancelled') {
      if (body.status !== 'completed' || body.failed !== 0) throw new Error(`${what} did not complete cleanly: ${JSON.stringify(body)}`);
      progress(`${what}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      return body;
    }
    if (performance.now() - last > 15_000) {
      progress(`${what}: ${Number(body.done ?? 0).toLocaleString('en-US')} / ${Number(body.total ?? 0).toLocaleString('en-US')}`);
      last = performance.now();
    }
    if (performance.now() - started > 30 * 60_000) throw new Error(`${what} took more than 30 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Imports SIMs 1..count through the API and activates them all with one bulk job. */
async function loadFleet(m: MeridianProcess, count: number): Promise<void> {
  const imported = await m.api('POST', '/sims/imports', fleetCsv(count));
  if (imported.status !== 202) throw new Error(`import refused: ${imported.status} ${JSON.stringify(imported.body)}`);
  await awaitJob(m, imported.body, `import of ${count.toLocaleString('en-US')} SIMs`);
  const bulk = await m.api('POST', '/bulk-jobs', {
    selection: { filter: { state: ['inventory'] } },
    change: { state: { state: 'active' } },
    reason: 'RADIUS benchmark fleet',
  });
  if (bulk.status !== 202) throw new Error(`bulk activation refused: ${bulk.status} ${JSON.stringify(bulk.body)}`);
  await awaitJob(m, bulk.body, `activation of ${count.toLocaleString('en-US')} SIMs`);
}

const baseNote = (count: number): string => `meridian-bench radius sims=${count} active`;

/**
 * A fresh store for one run, copied from a base holding `count` active SIMs; the base is built on first use (or with
 * BENCH_FRESH=1) through a server of its own.
 */
export async function prepareStore(kind: Store['dialect'], count: number, ports: { acctPort: number; authPort: number }, outDir: string): Promise<{ store: Store; origin: string }> {
  const fresh = process.env.BENCH_FRESH === '1';
  if (kind === 'postgres') {
    const base = 'meridian_bench_radius_base';
    const run = 'meridian_bench_radius';
    let origin = `copied from ${base} (reused from an earlier run)`;
    if (fresh || (await databaseNote(base)) !== baseNote(count)) {
      await recreateDatabase(base);
      progress(`building ${base}: ${count.toLocaleString('en-US')} SIMs through the API`);
      const m = await startMeridian({ store: { dialect: 'postgres', database: base }, ...ports });
      try {
        await loadFleet(m, count);
      } finally {
        await m.stop();
      }
      await setDatabaseNote(base, baseNote(count));
      origin = `copied from ${base}, built just now through the API`;
    }
    await recreateDatabase(run, base);
    return { store: { dialect: 'postgres', database: run }, origin };
  }
  const base = join(outDir, 'pglite-base');
  const run = join(outDir, 'pglite-run');
  const noteFile = join(base, 'bench-note.txt');
  let origin = `copied from ${base} (reused from an earlier run)`;
  if (fresh || !existsSync(noteFile) || readFileSync(noteFile, 'utf8') !== baseNote(count)) {
    rmSync(base, { recursive: true, force: true });
    progress(`building ${base}: ${count.toLocaleString('en-US')} SIMs through the API`);
    const m = await startMeridian({ store: { dialect: 'pglite', dir: join(base, 'data') }, ...ports });
    try {
      await loadFleet(m, count);
    } finally {
      await m.stop();
    }
    writeFileSync(noteFile, baseNote(count));
    origin = `copied from ${base}, built just now through the API`;
  }
  rmSync(run, { recursive: true, force: true });
  cpSync(base, run, { recursive: true });
  return { store: { dialect: 'pglite', dir: join(run, 'data') }, origin };
}

/** Removes a run's store. */
export async function dropStore(store: Store): Promise<void> {
  if (store.dialect === 'postgres') await dropDatabase(store.database);
  else {
    rmSync(join(store.dir, '..'), { recursive: true, force: true });
  }
}

/** What the store holds after a run (open it only once the server has stopped). */
export async function storeTotals(store: Store): Promise<{ sessions: number; stopped: number; octets: number; usageRecords: number }> {
  const database = await openDatabase(store.dialect === 'postgres' ? { url: databaseUrl(store.database), dataDir: 'memory://' } : { dataDir: store.dir });
  try {
    const { rows } = await sql<{ sessions: number; stopped: number; octets: string; records: number }>`
      SELECT (SELECT count(*) FROM radius_sessions)::int AS sessions,
             (SELECT count(*) FROM radius_sessions WHERE status = 'stop')::int AS stopped,
             (SELECT coalesce(sum(bytes_in + bytes_out), 0) FROM usage_records)::text AS octets,
             (SELECT count(*) FROM usage_records)::int AS records`.execute(database.db);
    const r = rows[0]!;
    return { sessions: r.sessions, stopped: r.stopped, octets: Number(r.octets), usageRecords: r.records };
  } finally {
    await database.close();
  }
}

/**
 * Puts the store's SIMs on rate plans before the server starts (it loads plans and SIMs at start-up), in thirds by
 * ⌊serial / 6⌋: a pooled plan (100 MB a SIM, shared), a plan of 16 KB with overage at 0.29 a MB (used up by a SIM's first
 * interim), and a plan of 1 GB that suspends when used up. Half the SIMs of the overage plan get a top-up once the
 * server runs (`addBenchTopUps`), so packets are rated from the pool, the own allowance, top-ups and overage; no SIM
 * runs out within a benchmark, so none is refused.
 */
export async function assignBenchPlans(store: Store, count: number): Promise<string> {
  const database = await openDatabase(store.dialect === 'postgres' ? { url: databaseUrl(store.database), dataDir: 'memory://' } : { dataDir: store.dir });
  try {
    await migrateToLatest(database.db);
    const { rows } = await sql<{ id: string }>`SELECT id FROM accounts WHERE parent_id IS NULL`.execute(database.db);
    const operator = rows[0]!.id;
    const now = new Date();
    const from = new Date(now.getTime() - 86_400_000);
    await insertZones(database.db, operator, [{ id: 'bench-cn', name: 'China', countries: ['CN'], networks: [] }], now);
    const common = { effectiveFrom: from, monthlyFeeMicros: 5_000_000, coverageZoneIds: ['bench-cn'], cutoffBytes: null };
    const plans = [
      createRatePlan({ ...common, id: 'bench-pool', name: 'Pooled 100 MB', includedBytes: 100 * MB, sharing: 'pooled', overage: { pricePerMbMicros: 290_000, capMicros: null } }),
      createRatePlan({ ...common, id: 'bench-overage', name: '16 KB with overage', includedBytes: 16 * 1024, overage: { pricePerMbMicros: 290_000, capMicros: 50_000_000 } }),
      createRatePlan({ ...common, id: 'bench-1gb', name: '1 GB, suspended when used up', includedBytes: GB, overage: null }),
    ];
    await insertPlanVersions(database.db, operator, plans, now);
    await sql`
      UPDATE sims SET plan_id = (ARRAY['bench-pool', 'bench-overage', 'bench-1gb'])[1 + ((substr(iccid, 8, 12)::bigint / 6) % 6) / 2]`.execute(database.db);
    return `${count.toLocaleString('en-US')} SIMs rated: a third each on a pooled plan, a 16 KB plan with overage (half of them with a top-up) and a 1 GB plan`;
  } finally {
    await database.close();
  }
}

/**
 * The SIMs of the overage plan that get a top-up: half of them. Plans and top-ups go by ⌊serial / 6⌋, not by the
 * serial modulo 6 that sets when the load generator first starts a SIM's session, so a short run rates every kind.
 */
const hasBenchTopUp = (serial: number): boolean => Math.floor(serial / 6) % 6 === 3;

/**
 * Gives half the SIMs of the overage plan a 1 GB top-up through the API (POST /sims/{iccid}/top-ups), as a customer
 * buying data would, 16 requests at a time; returns what was done.
 */
export async function addBenchTopUps(m: MeridianProcess, count: number): Promise<string> {
  const serials: number[] = [];
  for (let serial = 1; serial <= count; serial++) if (hasBenchTopUp(serial)) serials.push(serial);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < serials.length) {
      const serial = serials[next++]!;
      const res = await m.api('POST', `/sims/${iccidFor(serial)}/top-ups`, { bytes: GB });
      if (res.status !== 201) throw new Error(`top-up of SIM ${serial} refused: ${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const seconds = (performance.now() - started) / 1000;
  return `${serials.length.toLocaleString('en-US')} top-ups of 1 GB through the API in ${seconds.toFixed(1)} s`;
}

/** Usage-record pieces by kind (pool, included, top_up, overage, ...): which rating branches the run took. */
export async function storePieces(store: Store): Promise<string> {
  const database = await openDatabase(store.dialect === 'postgres' ? { url: databaseUrl(store.database), dataDir: 'memory://' } : { dataDir: store.dir });
  try {
    const { rows } = await sql<{ kind: string; n: number }>`
      SELECT p->>'kind' AS kind, count(*)::int AS n FROM usage_records, jsonb_array_elements(pieces) AS p GROUP BY 1 ORDER BY 1`.execute(database.db);
    return rows.length ? rows.map((r) => `${r.kind} ${r.n.toLocaleString('en-US')}`).join(', ') : 'none';
  } finally {
    await database.close();
  }
}

/**
 * Ten automation rules on the account that holds the SIMs (BENCH_RULES=10): the reminders and alerts of the seeds, six
 * of them evaluated by the engine on every packet, the rest by the scheduler. Their actions publish a webhook event.
 */
export async function assignBenchRules(store: Store, perAccount: number): Promise<string> {
  const database = await openDatabase(store.dialect === 'postgres' ? { url: databaseUrl(store.database), dataDir: 'memory://' } : { dataDir: store.dir });
  try {
    await migrateToLatest(database.db);
    const { rows } = await sql<{ account_id: string; n: number }>`SELECT account_id, count(*)::int AS n FROM sims GROUP BY account_id ORDER BY n DESC LIMIT 1`.execute(database.db);
    const account = rows[0]!.account_id;
    const scope = { kind: 'account' as const, id: account };
    const actions = [{ type: 'webhook' as const }];
    const now = new Date();
    for (const [i, d] of BENCH_RULE_DEFINITIONS.slice(0, perAccount).entries()) {
      const def = RuleDefinitionSchema.parse({ ...d, scope, actions });
      await insertRule(database.db, { ...def, id: `rul_bench_${i}`, accountId: account, templateId: null, createdBy: 'bench' }, now);
    }
    const n = Math.min(perAccount, BENCH_RULE_DEFINITIONS.length);
    return `${n} automation rules on the account of the SIMs (${Math.min(n, 8)} evaluated on every packet, the others by the scheduler)`;
  } finally {
    await database.close();
  }
}

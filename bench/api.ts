/**
 * API benchmark on PostgreSQL with 1,000,000 SIMs: the real server (startServer from src/server.ts) in its own
 * process, driven over HTTP on 127.0.0.1.
 *   1. GET /api/v1/sims/{iccid} on random ICCIDs with autocannon (50 connections, 15 s); peer: GET /healthz.
 *   2. First page of the SIM list, unfiltered and filtered, 200 sequential requests per case.
 *
 *   npx tsx bench/api.ts                               (BENCH_SIMS=1000000, BENCH_DURATION=15, BENCH_CONNECTIONS=50,
 *                                                       BENCH_LIST_REQUESTS=200; BENCH_EXPLAIN=1 prints full plans)
 *   BENCH_SIMS=50000 BENCH_DURATION=5 npx tsx bench/api.ts
 *   BENCH_ONLY=get|list runs one part; BENCH_FRESH=1 rebuilds the database.
 *
 * The database (meridian_bench_api) is made once: copied from bench/import.ts's database when that holds the same
 * number of SIMs, else loaded with SQL; later runs reuse it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options, type Result } from 'autocannon';
import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/db/database.ts';
import type { SimState } from '../src/modules/sims/sim.ts';
import { findSimRow, listSimRows, profilesOf, type Scope, type SimFilter } from '../src/modules/sims/sim.repository.ts';
import { baseUrl, intEnv, selected } from './support/env.ts';
import { API_DATABASE, prepareFleet } from './support/fleet.ts';
import { describeLoad, startLoadMeter, waitForQuietMachine } from './support/load.ts';
import { heading, int, line, machine, ms, progress, ratio, summarize, verdict } from './support/report.ts';
import type { ServeReady } from './support/serve.ts';
import { iccidFor } from './support/sims.ts';

const SIMS = intEnv('BENCH_SIMS', 1_000_000);
const DURATION_S = intEnv('BENCH_DURATION', 15);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50);
const LIST_REQUESTS = intEnv('BENCH_LIST_REQUESTS', 200);
const FULL_PLANS = process.env.BENCH_EXPLAIN === '1';
const GET_P99_TARGET_MS = 10;
const LIST_TARGET_MS = 50;
const parts = selected(['get', 'list'] as const);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// ---------- the server process ----------

interface Server {
  child: ChildProcess;
  ready: ServeReady;
  stop(): Promise<void>;
}

async function startServerProcess(databaseUrl: string): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./support/serve.ts', import.meta.url)), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROF}`] : [])],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      // The benchmark key sends far more than the default 200 requests/s per principal.
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<ServeReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 120 s')), 120_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as ServeReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server process exited with code ${code} before it was ready`));
    });
  });
  return {
    child,
    ready,
    async stop() {
      if (child.exitCode !== null) return;
      child.send('stop');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

// ---------- load with autocannon ----------

/** ICCIDs of random existing SIMs, drawn ahead so that the load generator does not compute check digits. */
const randomIccids = (n: number): string[] => Array.from({ length: n }, () => iccidFor(1 + Math.floor(Math.random() * SIMS)));

async function fire(options: Options): Promise<Result> {
  const result = await autocannon({ timeout: 10, ...options });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`load run had ${result.errors} errors and ${result.non2xx} non-2xx responses: ${JSON.stringify(result.statusCodeStats)}`);
  }
  return result;
}

const perSecond = (r: Result): number => r.requests.total / r.duration;

function printLoad(r: Result): void {
  const l = r.latency;
  line(`  ${int(perSecond(r))} requests/s (${int(r.requests.total)} in ${r.duration.toFixed(1)} s, 0 errors, all 200)`);
  line(`  latency p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}, mean ${ms(l.mean)}`);
}

/** One load run: waits for a quiet machine, measures, prints the figures and who used the CPU. */
async function loadRun(server: Server, title: string, options: Options): Promise<Result> {
  heading(title);
  await waitForQuietMachine();
  const meter = startLoadMeter(server.child.pid);
  const result = await fire(options);
  const load = meter.stop();
  printLoad(result);
  line(`  ${describeLoad(load, 'load generator')}`);
  return result;
}

async function measureGet(server: Server): Promise<void> {
  const { url, apiKey } = server.ready;
  const headers = { authorization: `Bearer ${apiKey}` };
  const pool = randomIccids(200_000);
  let next = 0;
  const simRequest = (): Options['requests'] => [
    {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/api/v1/sims/${pool[next++ % pool.length]!}` }),
    },
  ];
  const sims = (connections: number, duration: number): Options => ({ url, connections, duration, headers, requests: simRequest() });

  progress('warm-up: 3 s of GET /api/v1/sims/{iccid}');
  await fire(sims(CONNECTIONS, 3));

  const main = await loadRun(server, `GET /api/v1/sims/{iccid}: random ICCIDs out of ${int(SIMS)}, ${CONNECTIONS} connections, ${DURATION_S} s`, sims(CONNECTIONS, DURATION_S));
  line(`  target p99 < ${GET_P99_TARGET_MS} ms: ${verdict(main.latency.p99 < GET_P99_TARGET_MS)}`);
  line(`  (a closed loop: mean latency = connections / throughput = ${CONNECTIONS} / ${int(perSecond(main))} per s = ${ms((1000 * CONNECTIONS) / perSecond(main))})`);

  const health = await loadRun(
    server,
    `Peer: GET /healthz on the same server (no database, no authentication), ${CONNECTIONS} connections, ${DURATION_S} s`,
    { url: `${url}/healthz`, connections: CONNECTIONS, duration: DURATION_S },
  );
  line(`  ratio GET /sims/{iccid} / GET /healthz: throughput ${ratio(perSecond(main), perSecond(health))}, p99 latency ${ratio(main.latency.p99, health.latency.p99)}`);

  // NOTE: autocannon's fixed-rate mode sends each second's quota in a burst, so lower load is shown with fewer
  // connections: one connection as sequential requests timed here (autocannon's histogram has 1 ms steps).
  heading('GET /api/v1/sims/{iccid}, one request at a time (latency without queueing), 2,000 requests');
  await waitForQuietMachine();
  const one = summarize(await sequential(server, 2000, () => `/api/v1/sims/${pool[next++ % pool.length]!}`));
  line(`  median ${ms(one.median)}, p90 ${ms(one.p90)}, p99 ${ms(one.p99)}, max ${ms(one.max)} (${int(1000 / one.mean)} requests/s)`);
  line(`  target p99 < ${GET_P99_TARGET_MS} ms: ${verdict(one.p99 < GET_P99_TARGET_MS)}`);
  const sweepS = Math.max(3, Math.round(DURATION_S / 3));
  const ten = await loadRun(server, `GET /api/v1/sims/{iccid} with 10 connections, ${sweepS} s`, sims(10, sweepS));
  line(`  target p99 < ${GET_P99_TARGET_MS} ms: ${verdict(ten.latency.p99 < GET_P99_TARGET_MS)}`);
}

/** `count` requests one after the other on a kept-alive connection; returns each one's time in ms. */
async function sequential(server: Server, count: number, path: () => string): Promise<number[]> {
  const headers = { authorization: `Bearer ${server.ready.apiKey}` };
  const samples: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const started = performance.now();
    const res = await fetch(`${server.ready.url}${path()}`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    if (i >= 20) samples.push(performance.now() - started);
  }
  return samples;
}

// ---------- the SIM list ----------

interface ListCase {
  title: string;
  filter: SimFilter;
}

function listCases(groups: Map<string, string>): ListCase[] {
  const group = (name: string): string => {
    const id = groups.get(name);
    if (!id) throw new Error(`group ${name} missing from the benchmark database`);
    return id;
  };
  const large = group('bench-fleet-large');
  const pilot = group('bench-pilot');
  return [
    { title: 'no filter', filter: {} },
    { title: 'state=active', filter: { state: ['active'] } },
    { title: 'state=retired (oldest ICCIDs)', filter: { state: ['retired'] } },
    { title: 'state=inventory (newest ICCIDs)', filter: { state: ['inventory'] } },
    { title: 'groupId=bench-pilot', filter: { groupId: pilot } },
    { title: 'state=active&groupId=bench-fleet-large', filter: { state: ['active'], groupId: large } },
    { title: 'state=active&groupId=bench-pilot', filter: { state: ['active'], groupId: pilot } },
    { title: 'state=suspended&groupId=bench-pilot', filter: { state: ['suspended'], groupId: pilot } },
  ];
}

const queryString = (f: SimFilter): string => {
  const q = new URLSearchParams();
  if (f.state) q.set('state', f.state.join(','));
  if (f.groupId) q.set('groupId', f.groupId);
  q.set('limit', '50');
  return q.toString();
};

interface SimItem {
  iccid: string;
  state: SimState;
  groupId: string | null;
}

async function timeList(server: Server, c: ListCase): Promise<number[]> {
  const path = `${server.ready.url}/api/v1/sims?${queryString(c.filter)}`;
  const headers = { authorization: `Bearer ${server.ready.apiKey}` };
  const once = async (): Promise<number> => {
    const started = performance.now();
    const res = await fetch(path, { headers });
    const body = (await res.json()) as { items: SimItem[] };
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    const wrong = body.items.find((s) => (c.filter.state && !c.filter.state.includes(s.state)) || (c.filter.groupId && s.groupId !== c.filter.groupId));
    if (wrong || body.items.length !== 50) throw new Error(`${path}: unexpected page (${body.items.length} items)`);
    return elapsed;
  };
  for (let i = 0; i < 5; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < LIST_REQUESTS; i++) samples.push(await once());
  return samples;
}

// ---------- the SQL behind the endpoints ----------

/** The statements a repository function sends, captured from Kysely's query log. */
async function capturedSql(url: string, fn: (db: Kysely<Database>) => Promise<unknown>): Promise<CompiledQuery[]> {
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  try {
    await fn(db);
  } finally {
    await db.destroy();
  }
  return captured;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Sort Method'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** "Limit > Sort (top-N heapsort) > Bitmap Heap Scan on sims [240,000 rows]": the plan's shape in one line. */
function planShape(node: PlanNode): string {
  const name =
    node['Node Type'] +
    (node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : '') +
    (node['Sort Method'] ? ` (${node['Sort Method']})` : '') +
    (node['Actual Rows'] !== undefined ? ` [${int(node['Actual Rows'] * (node['Actual Loops'] ?? 1))} rows]` : '');
  const children = (node.Plans ?? []).map(planShape);
  if (children.length === 0) return name;
  return `${name} > ${children.length === 1 ? children[0] : `(${children.join(' | ')})`}`;
}

async function explain(url: string, q: CompiledQuery): Promise<{ shape: string; executionMs: number; text: string }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const params = [...q.parameters];
    await c.query(q.sql, params); // warm
    const json = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, params);
    const plan = json.rows[0]!['QUERY PLAN'][0];
    const text = FULL_PLANS
      ? (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, params)).rows.map((r) => `      ${r['QUERY PLAN']}`).join('\n')
      : '';
    return { shape: planShape(plan.Plan), executionMs: plan['Execution Time'], text };
  } finally {
    await c.end();
  }
}

const ROOT_SCOPE: Scope = { path: '', isRoot: true };

async function explainGet(url: string): Promise<void> {
  heading('SQL of one GET /api/v1/sims/{iccid} (captured from sim.repository.ts; EXPLAIN ANALYZE, warm)');
  const iccid = iccidFor(Math.ceil(SIMS / 3));
  const statements = await capturedSql(url, async (db) => {
    await findSimRow(db, iccid, ROOT_SCOPE);
    await profilesOf(db, [iccid]);
  });
  for (const q of statements) {
    const e = await explain(url, q);
    line(`  ${q.sql}`);
    line(`    ${ms(e.executionMs)}: ${e.shape}`);
    if (e.text) line(e.text);
  }
}

async function measureList(server: Server, url: string, groups: Map<string, string>): Promise<void> {
  heading(`First page of GET /api/v1/sims (limit=50, default sort iccid), ${LIST_REQUESTS} sequential requests per case, ${int(SIMS)} SIMs`);
  line(`  target: < ${LIST_TARGET_MS} ms (judged on p99)`);
  const counter = new pg.Client({ connectionString: url });
  await counter.connect();
  try {
    for (const c of listCases(groups)) {
      const [listSql] = await capturedSql(url, (db) => listSimRows(db, ROOT_SCOPE, c.filter, { sort: 'iccid', order: 'asc', limit: 51 }));
      if (!listSql) throw new Error('no SQL captured for the list');
      const count = await countMatching(counter, c.filter);
      await waitForQuietMachine();
      const meter = startLoadMeter(server.child.pid);
      const s = summarize(await timeList(server, c));
      const load = meter.stop();
      const e = await explain(url, listSql);
      line(`  ${c.title}`);
      line(`    ${int(count)} matching SIMs; median ${ms(s.median)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, max ${ms(s.max)}: ${verdict(s.p99 < LIST_TARGET_MS)}`);
      line(`    SQL ${ms(e.executionMs)}: ${e.shape}`);
      if (load) line(`    CPU used by other processes meanwhile: ${Math.round((100 * load.otherS) / load.wallS)} % of a core`);
      if (e.text) line(`    ${listSql.sql}\n${e.text}`);
    }
  } finally {
    await counter.end();
  }
}

async function countMatching(c: pg.Client, f: SimFilter): Promise<number> {
  const r = await c.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sims WHERE ($1::text[] IS NULL OR state = any($1::text[])) AND ($2::text IS NULL OR group_id = $2)',
    [f.state ?? null, f.groupId ?? null],
  );
  return r.rows[0]?.n ?? 0;
}

// ---------- main ----------

async function main(): Promise<void> {
  const pgServer = new URL(baseUrl());
  pgServer.password = pgServer.password ? '***' : '';
  line(`Meridian API benchmark, ${new Date().toISOString()}`);
  line(`machine: ${machine()}`);
  const fleet = await prepareFleet(SIMS);
  line(`database: ${API_DATABASE} on ${pgServer.toString()}, ${int(SIMS)} SIMs, ${fleet.origin}`);
  line(`  states: ${fleet.states}`);
  line(`  groups: ${fleet.groupShares}`);
  line('  (ICCID order follows age: newest ranges in inventory/test/silent, oldest include deactivated/retired; groups hold ranges)');

  const server = await startServerProcess(fleet.url);
  try {
    line(`server: startServer (src/server.ts) in its own process at ${server.ready.url}, ${server.ready.dialect}, LOG_LEVEL=silent, rate limit raised for the benchmark key`);
    line(`load: autocannon ${CONNECTIONS} connections in this process (same 2 cores as the server and PostgreSQL)`);
    if (parts.has('get')) {
      await measureGet(server);
      await explainGet(fleet.url);
    }
    if (parts.has('list')) await measureList(server, fleet.url, fleet.groups);
  } finally {
    await server.stop();
  }
  line();
}

await main();

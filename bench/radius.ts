/**
 * RADIUS accounting benchmark: the highest rate of Accounting-Requests a server answers with nothing lost and p99
 * latency under 100 ms, each answer given only once the accounting is in the database. Same load generator
 * (bench/radius-load.ts: 64 UDP sockets, N SIMs in sessions of Start, K Interim-Updates and Stop, open loop,
 * retransmission after a timeout) and the same stepped search against, one after the other:
 *   freeradius  FreeRADIUS 3.2 from Debian with rlm_sql to PostgreSQL (Debian's stock queries and radacct schema)
 *   postgres    Meridian (startServer in its own process) on PostgreSQL
 *   pglite      Meridian on PGlite
 *   rated       Meridian on PostgreSQL with every SIM on a rate plan (pooled, 16 KB with overage, 1 GB with a limit) and a
 *               sixth of them holding a 1 GB top-up added through the API, so packets are rated from the pool, the own
 *               allowance, top-ups and overage; the rated pieces are counted by kind after the run (opt-in)
 *   rules       as rated, plus BENCH_RULES (10) automation rules on the account of the SIMs (opt-in)
 * The opt-in parts run only when named in BENCH_ONLY; with them the summary compares each to the run before it
 * (rated to postgres, rules to rated): the same search in the same run, and the server's CPU per request at the
 * highest rate both sustained.
 *
 *   npm run bench:radius
 *   BENCH_SIMS=20000 BENCH_STEP_SECONDS=5 BENCH_RATES=2000,4000,8000 npm run bench:radius
 *   BENCH_ONLY=freeradius,postgres npm run bench:radius
 *   BENCH_ONLY=postgres,rated,rules npm run bench:radius
 *
 * Settings: BENCH_SIMS (100000), BENCH_STEP_SECONDS (12), BENCH_RATES (2000,3000,4000,5000,6000,8000,10000,12000,16000,
 * 20000,25000,30000,40000,50000), BENCH_INTERIMS (4), BENCH_SOCKETS (64), BENCH_DATABASE_URL (postgres://postgres:postgres@
 * 127.0.0.1:5432; the benchmark creates meridian_bench_freeradius, meridian_bench_radius_base and meridian_bench_radius
 * there), BENCH_FRESH=1 (rebuild the SIM bases), BENCH_SERVER_PROF=DIR (V8 CPU profile of the Meridian server),
 * BENCH_SERVER_NODE_ARGS (extra Node flags for the Meridian server, e.g. "--trace-gc"),
 * BENCH_PLANS=1 (the postgres and pglite parts rated as in `rated`), BENCH_RULES (10: the rules of the `rules` part),
 * BENCH_QUIET_WAIT (600: seconds to wait for other work on the machine to end before a search),
 * BENCH_STEADY_ROUNDS (0: the search starts after the short warm-up; N: every SIM first goes through N rounds of its
 * sessions at BENCH_STEADY_RATE, 3000/s, so that the search runs in the steady mix of Starts, Interims and Stops
 * rather than in the first rounds, where every SIM opens its first session and, on the 16 KB plan of `rated`, crosses
 * all its usage thresholds at once; the same for every part).
 * PostgreSQL keeps its own settings (fsync on). Everything listens and sends on 127.0.0.1 only.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AccountingLoad, DEFAULT_RATES, describeStep, parseRates, searchSustainedRate, type StepResult } from './radius-load.ts';
import { baseUrl, checkpoint, databaseUrl, dropDatabase, intEnv, selected, withAdmin } from './support/env.ts';
import { freeRadiusMissing, startFreeRadius } from './support/freeradius.ts';
import { type LoadReport, startLoadMeter, waitForQuietMachine } from './support/load.ts';
import {
  addBenchTopUps,
  assignBenchPlans,
  assignBenchRules,
  describeCounters,
  dropStore,
  prepareStore,
  radiusCounters,
  startMeridian,
  storePieces,
  storeTotals,
  waitUntilIdle,
} from './support/meridian-radius.ts';
import { heading, int, line, machine } from './support/report.ts';

const SIMS = intEnv('BENCH_SIMS', 100_000);
const STEP_SECONDS = intEnv('BENCH_STEP_SECONDS', 12);
const RATES = process.env.BENCH_RATES ? parseRates(process.env.BENCH_RATES) : DEFAULT_RATES;
const INTERIMS = intEnv('BENCH_INTERIMS', 4);
const SOCKETS = intEnv('BENCH_SOCKETS', 64);
const TIMEOUT_MS = 1000;
const RETRIES = 2;
const MAX_P99_MS = 100;
const PAUSE_SECONDS = 3;
const STEADY_ROUNDS = intEnv('BENCH_STEADY_ROUNDS', 0);
const STEADY_RATE = intEnv('BENCH_STEADY_RATE', 3000);
const TARGET_RATIO = 5;
/** How long to wait for other work on the machine to end before a search, and before repeating a disturbed step. */
const QUIET_WAIT_S = intEnv('BENCH_QUIET_WAIT', 600);
/** A failed step during which other processes used more than this share of a core is run again once. */
const DISTURBED_SHARE = 0.25;
const SECRET = 'bench-radius-secret';
const PORTS = { freeradius: { acctPort: 21813, authPort: 21812 }, meridian: { acctPort: 21823, authPort: 21822 } };
const OUT_DIR = fileURLToPath(new URL('./out/radius', import.meta.url));
const FREERADIUS_DATABASE = 'meridian_bench_freeradius';

const ALL_PARTS = ['freeradius', 'postgres', 'rated', 'rules', 'pglite'] as const;
type Part = (typeof ALL_PARTS)[number];
const parts: Set<Part> = process.env.BENCH_ONLY ? selected(ALL_PARTS) : new Set(['freeradius', 'postgres', 'pglite']);
/** What a Meridian part adds to the plain workload. */
interface Variant {
  kind: 'postgres' | 'pglite';
  plans: boolean;
  rules: number;
}
const RULES = intEnv('BENCH_RULES', 10);
const VARIANTS: Record<Exclude<Part, 'freeradius'>, Variant> = {
  postgres: { kind: 'postgres', plans: process.env.BENCH_PLANS === '1', rules: 0 },
  pglite: { kind: 'pglite', plans: process.env.BENCH_PLANS === '1', rules: 0 },
  rated: { kind: 'postgres', plans: true, rules: 0 },
  rules: { kind: 'postgres', plans: true, rules: RULES },
};
/** Parts compared in the summary: each to the one it adds to, and the largest drop allowed. */
const COMPARISONS: { part: Part; base: Part; what: string; maxDrop: number | null }[] = [
  { part: 'rated', base: 'postgres', what: 'rating (pools, overage, top-ups)', maxDrop: null },
  { part: 'rules', base: 'rated', what: `${RULES} automation rules`, maxDrop: 0.15 },
];

interface Outcome {
  title: string;
  best: StepResult | undefined;
  bestLoad: LoadReport | undefined;
  ended: string;
  check: string;
  /** Every step run and the CPU measured during it. */
  steps: { step: StepResult; ok: boolean; cpu: LoadReport | undefined }[];
}

const pctOfCore = (seconds: number, r: LoadReport): string => `${Math.round((100 * seconds) / r.wallS)} %`;

/** CPU of one step, in shares of one core. */
function cpuLine(r: LoadReport | undefined, server: string): string {
  if (!r) return 'CPU: not available';
  return `CPU (of one core): ${server} ${pctOfCore(r.serverS ?? 0, r)}, postgres ${pctOfCore(r.postgresS, r)}, load generator ${pctOfCore(r.benchS, r)}, other processes ${pctOfCore(r.otherS, r)}`;
}

async function pgVersion(): Promise<string> {
  return withAdmin(async (c) => {
    const v = await c.query<{ v: string; fsync: string; sc: string }>(
      "SELECT current_setting('server_version') AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
    );
    const r = v.rows[0]!;
    return `PostgreSQL ${r.v} (fsync ${r.fsync}, synchronous_commit ${r.sc})`;
  });
}

/** Runs the stepped search against a server listening on `port`, metering the CPU of `serverPid`. */
async function search(port: number, serverPid: number, serverName: string): Promise<Omit<Outcome, 'title' | 'check'> & { load: AccountingLoad }> {
  const load = await AccountingLoad.open({ host: '127.0.0.1', port, secret: SECRET }, { sims: SIMS, interims: INTERIMS, sockets: SOCKETS, timeoutMs: TIMEOUT_MS, retries: RETRIES });
  await checkpoint();
  await waitForQuietMachine(QUIET_WAIT_S);
  const warm = Math.max(500, Math.round((RATES[0] ?? 1000) / 2));
  const w = await load.run(warm, 5);
  line(`  warm-up  ${describeStep(w)}`);
  if (STEADY_ROUNDS > 0) {
    const r = await load.run(STEADY_RATE, Math.ceil((STEADY_ROUNDS * SIMS) / STEADY_RATE));
    line(`  ${STEADY_ROUNDS} rounds before the search  ${describeStep(r)}`);
    await checkpoint();
  }
  let meter = startLoadMeter(serverPid);
  const loads = new Map<StepResult, LoadReport | undefined>();
  const steps: Outcome['steps'] = [];
  const result = await searchSustainedRate(load, {
    rates: RATES,
    stepSeconds: STEP_SECONDS,
    pauseSeconds: PAUSE_SECONDS,
    maxP99Ms: MAX_P99_MS,
    onStep: (r, ok) => {
      const cpu = meter.stop();
      loads.set(r, cpu);
      steps.push({ step: r, ok, cpu });
      line(`  ${ok ? 'ok  ' : 'FAIL'} ${describeStep(r)}`);
      line(`         ${cpuLine(cpu, serverName)}`);
      meter = startLoadMeter(serverPid);
    },
    retry: async () => {
      const cpu = [...loads.values()].at(-1);
      if (!cpu || cpu.otherS / cpu.wallS <= DISTURBED_SHARE) return false;
      line(`         other work used ${pctOfCore(cpu.otherS, cpu)} of a core during that step: once more when the machine is quiet`);
      await waitForQuietMachine(QUIET_WAIT_S);
      meter.stop();
      meter = startLoadMeter(serverPid);
      return true;
    },
  });
  meter.stop();
  return { best: result.best, bestLoad: result.best ? loads.get(result.best) : undefined, ended: result.ended, steps, load };
}

/** Checks that the database holds at least what the server acknowledged. */
function durability(load: AccountingLoad, held: { sessions: number; octets: number }): string {
  const ok = held.octets >= load.acknowledgedOctets && held.sessions >= load.acknowledgedSessions;
  return (
    `database holds ${int(held.sessions)} sessions, ${int(held.octets)} octets; acknowledged ${int(load.acknowledgedSessions)} sessions, ` +
    `${int(load.acknowledgedOctets)} octets: ${ok ? 'nothing acknowledged is missing' : 'ACKNOWLEDGED ACCOUNTING IS MISSING'}`
  );
}

async function runFreeRadius(): Promise<Outcome> {
  const title = 'FreeRADIUS + rlm_sql (PostgreSQL)';
  heading(`${title}: Debian's freeradius 3.2 and freeradius-postgresql, stock queries.conf and radacct schema`);
  const missing = freeRadiusMissing();
  if (missing) {
    line(`  skipped: ${missing}`);
    return { title, best: undefined, bestLoad: undefined, ended: 'skipped', check: missing, steps: [] };
  }
  const fr = await startFreeRadius({ dir: `${OUT_DIR}/freeradius`, database: FREERADIUS_DATABASE, secret: SECRET, ...PORTS.freeradius });
  let outcome: Outcome;
  try {
    line(`  FreeRADIUS ${fr.version}, ${fr.settings}; accounting: preacct acct_unique, accounting sql; database ${FREERADIUS_DATABASE}`);
    const { best, bestLoad, ended, steps, load } = await search(PORTS.freeradius.acctPort, fr.pid, 'freeradius');
    await load.close();
    await new Promise((r) => setTimeout(r, 2000));
    const check = durability(load, await fr.countRows());
    line(`  ${check}`);
    outcome = { title, best, bestLoad, ended, check, steps };
  } finally {
    await fr.stop();
  }
  await dropDatabase(FREERADIUS_DATABASE);
  return outcome;
}

async function runMeridian({ kind, plans, rules }: Variant): Promise<Outcome> {
  const title = `Meridian on ${kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}${plans ? ', rated' : ''}${rules ? `, ${rules} rules` : ''}`;
  heading(`${title}: startServer in its own process, ${int(SIMS)} SIMs imported and activated through the API, gateway registered through the API`);
  const { store, origin } = await prepareStore(kind, SIMS, PORTS.meridian, OUT_DIR);
  line(`  store: ${store.dialect === 'postgres' ? store.database : store.dir}, ${origin}`);
  if (plans) line(`  plans: ${await assignBenchPlans(store, SIMS)}`);
  if (rules > 0) line(`  rules: ${await assignBenchRules(store, rules)}`);
  const profileDir = process.env.BENCH_SERVER_PROF;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const m = await startMeridian({ store, ...PORTS.meridian, cpuProfileDir: profileDir });
  let result: Awaited<ReturnType<typeof search>>;
  try {
    const gw = await m.api('POST', '/gateways', { name: 'bench-pgw', address: '127.0.0.1', secret: SECRET, coaPort: 3799 });
    if (gw.status !== 201) throw new Error(`gateway registration refused: ${gw.status} ${JSON.stringify(gw.body)}`);
    if (plans) line(`  top-ups: ${await addBenchTopUps(m, SIMS)}`);
    result = await search(PORTS.meridian.acctPort, m.pid, 'meridian');
    await result.load.close();
    // NOTE: the last step may have left the server a backlog; it is answered (to closed sockets) before the stop.
    await waitUntilIdle(m);
    line(`  ${describeCounters(await radiusCounters(m))}`);
  } finally {
    await m.stop();
  }
  const check = durability(result.load, await storeTotals(store));
  line(`  ${check}`);
  if (plans) line(`  rated pieces: ${await storePieces(store)}`);
  await dropStore(store);
  return { title, best: result.best, bestLoad: result.bestLoad, ended: result.ended, check, steps: result.steps };
}

heading('RADIUS accounting: highest sustained rate (0 % loss, p99 < 100 ms), durable before the Accounting-Response');
line(`machine: ${machine()}; ${await pgVersion()} at ${new URL(baseUrl()).host}`);
line(
  `workload: ${int(SIMS)} SIMs, sessions of Start + ${INTERIMS} Interim-Updates + Stop (15-21 attributes, 4 of them 3GPP), ` +
    `${SOCKETS} UDP sockets, open loop, retransmission after ${TIMEOUT_MS} ms, lost after ${RETRIES} retransmissions`,
);
line(`search: ${RATES.map((r) => int(r)).join(', ')} requests/s, ${STEP_SECONDS} s each, ${PAUSE_SECONDS} s apart; stops at the first step not sustained`);
if (STEADY_ROUNDS > 0) line(`before each search: ${STEADY_ROUNDS} rounds of every SIM's sessions at ${int(STEADY_RATE)} requests/s (BENCH_STEADY_ROUNDS), then a checkpoint`);
line(`date: ${new Date().toISOString().slice(0, 10)}`);
mkdirSync(OUT_DIR, { recursive: true });
// NOTE: makes sure the server is reachable before anything long starts.
await new pg.Client({ connectionString: databaseUrl('postgres') }).connect().then((c) => c.end());

const outcomes = new Map<Part, Outcome>();
if (parts.has('freeradius')) outcomes.set('freeradius', await runFreeRadius());
for (const part of ['postgres', 'rated', 'rules', 'pglite'] as const) if (parts.has(part)) outcomes.set(part, await runMeridian(VARIANTS[part]));

heading('Summary: highest sustained accounting rate (0 % loss, p99 < 100 ms)');
const peer = outcomes.get('freeradius')?.best?.offered;
for (const [part, o] of outcomes) {
  const rate = o.best?.offered;
  const ratioText = part !== 'freeradius' && rate && peer ? `, ${(rate / peer).toFixed(2)}x FreeRADIUS+SQL (target >= ${TARGET_RATIO}x: ${rate / peer >= TARGET_RATIO ? 'meets target' : 'MISSES target'})` : '';
  line(`  ${o.title.padEnd(36)} ${rate ? `${int(rate)}/s` : 'none'}${ratioText}`);
  if (o.best) line(`  ${''.padEnd(36)} at that rate: p50 ${o.best.p50.toFixed(2)} ms, p99 ${o.best.p99.toFixed(1)} ms; ${cpuLine(o.bestLoad, 'server')}`);
  line(`  ${''.padEnd(36)} ${o.ended}`);
}
line('  (CPU shares are of one core; the two cores are shared by the server, PostgreSQL and the load generator)');

/** Server CPU per answered request during a step, in microseconds. */
const cpuPerRequest = (s: Outcome['steps'][number]): number | undefined =>
  s.cpu?.serverS !== undefined && s.step.answered > 0 ? (s.cpu.serverS / s.step.answered) * 1e6 : undefined;

for (const c of COMPARISONS) {
  const o = outcomes.get(c.part);
  const base = outcomes.get(c.base);
  if (!o || !base) continue;
  heading(`${o.title} against ${base.title}: what ${c.what} cost, same run`);
  const rate = o.best?.offered ?? 0;
  const baseRate = base.best?.offered ?? 0;
  const verdict = c.maxDrop === null ? '' : `; target at most ${Math.round(c.maxDrop * 100)} % lower: ${baseRate > 0 && rate >= baseRate * (1 - c.maxDrop) ? 'met' : 'MISSED'}`;
  line(`  highest sustained rate ${int(rate)}/s against ${int(baseRate)}/s: ${baseRate > 0 ? `${((rate / baseRate - 1) * 100).toFixed(0)} %` : 'no base figure'}${verdict}`);
  // NOTE: the stepped search moves in steps of 20-25 %; CPU per request at a rate both sustained resolves finer.
  const common = o.steps.filter((s) => s.ok && base.steps.some((b) => b.ok && b.step.offered === s.step.offered)).at(-1);
  const baseStep = common && base.steps.filter((b) => b.ok && b.step.offered === common.step.offered).at(-1);
  const mine = common && cpuPerRequest(common);
  const theirs = baseStep && cpuPerRequest(baseStep);
  if (common && baseStep && mine !== undefined && theirs !== undefined) {
    line(
      `  at ${int(common.step.offered)}/s, sustained by both: server CPU ${mine.toFixed(1)} µs per request against ${theirs.toFixed(1)} µs (${((mine / theirs - 1) * 100).toFixed(0)} %), ` +
        `p50 ${common.step.p50.toFixed(2)} / ${baseStep.step.p50.toFixed(2)} ms, p99 ${common.step.p99.toFixed(1)} / ${baseStep.step.p99.toFixed(1)} ms`,
    );
  } else line('  no rate was sustained by both');
}

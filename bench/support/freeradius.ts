/**
 * FreeRADIUS 3.2 (Debian's packages freeradius + freeradius-postgresql) as the peer of the RADIUS accounting
 * benchmark: a configuration directory generated from Debian's stock one (/etc/freeradius/3.0) under bench/out/,
 * with one client (127.0.0.1), one virtual server whose accounting section is `sql` (rlm_sql_postgresql with Debian's
 * stock queries.conf) and a database made from Debian's stock schema.sql. Runs in the foreground (`freeradius -f`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { databaseUrl, recreateDatabase } from './env.ts';
import { progress } from './report.ts';

export const STOCK_RADDB = '/etc/freeradius/3.0';
const STOCK_SCHEMA = `${STOCK_RADDB}/mods-config/sql/main/postgresql/schema.sql`;
const BINARY = '/usr/sbin/freeradius';

export interface FreeRadiusOptions {
  /** Directory (created anew) for the configuration, pid file and log. */
  dir: string;
  database: string;
  secret: string;
  acctPort: number;
  authPort: number;
}

export interface RunningFreeRadius {
  pid: number;
  version: string;
  /** The stock settings that bound its throughput, for the report. */
  settings: string;
  /** Rows in radacct (to check that accounting really landed). */
  countRows(): Promise<{ sessions: number; stopped: number; octets: number }>;
  stop(): Promise<void>;
}

/** Why FreeRADIUS cannot run here, or undefined when it can. */
export function freeRadiusMissing(): string | undefined {
  if (!existsSync(BINARY) || !existsSync(STOCK_RADDB)) return 'FreeRADIUS is not installed (apt-get install -y freeradius freeradius-postgresql)';
  if (!existsSync('/usr/lib/freeradius/rlm_sql_postgresql.so')) return 'rlm_sql_postgresql is missing (apt-get install -y freeradius-postgresql)';
  return undefined;
}

const stockSetting = (conf: string, name: string): string => new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)`, 'm').exec(conf)?.[1] ?? '?';

/** Writes the configuration directory: Debian's stock files, our client, site and sql module. */
function writeConfig(o: FreeRadiusOptions, db: URL): string {
  const raddb = join(o.dir, 'raddb');
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  cpSync(STOCK_RADDB, raddb, { recursive: true, verbatimSymlinks: true });
  for (const d of ['mods-enabled', 'sites-enabled']) {
    for (const f of readdirSync(join(raddb, d))) rmSync(join(raddb, d, f), { force: true });
  }
  // Stock radiusd.conf with its paths moved here and no change of user (the benchmark runs as whoever starts it).
  const stock = readFileSync(join(raddb, 'radiusd.conf'), 'utf8');
  const conf = stock
    .replace(/^raddbdir = .*$/m, `raddbdir = ${raddb}`)
    .replace(/^logdir = .*$/m, `logdir = ${o.dir}`)
    .replace(/^run_dir = .*$/m, `run_dir = ${o.dir}`)
    .replace(/^(\s*)(user|group) = freerad$/gm, '$1# $2 = freerad (left out by the benchmark)');
  writeFileSync(join(raddb, 'radiusd.conf'), conf);
  writeFileSync(
    join(raddb, 'clients.conf'),
    `client bench-gateway {\n\tipaddr = 127.0.0.1\n\tsecret = ${o.secret}\n\trequire_message_authenticator = no\n\tnas_type = other\n}\n`,
  );
  // always: the reject module; expr: the tolower/integer expansions the stock queries use.
  for (const m of ['always', 'expr']) symlinkSync(`../mods-available/${m}`, join(raddb, 'mods-enabled', m));
  // Debian's stock sql module with the dialect, driver and server filled in; pool and queries untouched.
  const sql = readFileSync(join(raddb, 'mods-available', 'sql'), 'utf8')
    .replace(/^(\s*)dialect = "sqlite"$/m, '$1dialect = "postgresql"')
    .replace(/^(\s*)driver = "rlm_sql_null"$/m, '$1driver = "rlm_sql_${dialect}"')
    .replace(/^(\s*)#\s*server = "localhost"$/m, `$1server = "${db.hostname}"`)
    .replace(/^(\s*)#\s*port = 3306$/m, `$1port = ${db.port || '5432'}`)
    .replace(/^(\s*)#\s*login = "radius"$/m, `$1login = "${decodeURIComponent(db.username)}"`)
    .replace(/^(\s*)#\s*password = "radpass"$/m, `$1password = "${decodeURIComponent(db.password)}"`)
    .replace(/^(\s*)radius_db = "radius"$/m, `$1radius_db = "${o.database}"`);
  for (const must of ['dialect = "postgresql"', 'driver = "rlm_sql_${dialect}"', `server = "${db.hostname}"`, `radius_db = "${o.database}"`]) {
    if (!sql.includes(must)) throw new Error(`could not adapt Debian's mods-available/sql (no ${must}); has the stock file changed?`);
  }
  writeFileSync(join(raddb, 'mods-enabled', 'sql'), sql);
  writeFileSync(
    join(raddb, 'sites-enabled', 'bench'),
    `server bench {
\tlisten {
\t\ttype = acct
\t\tipaddr = 127.0.0.1
\t\tport = ${o.acctPort}
\t}
\tlisten {
\t\ttype = auth
\t\tipaddr = 127.0.0.1
\t\tport = ${o.authPort}
\t}
\tauthorize {
\t\treject
\t}
\tauthenticate {
\t}
\tpreacct {
\t\tacct_unique
\t}
\taccounting {
\t\tsql
\t}
}
`,
  );
  return conf;
}

/** Creates the database from Debian's stock schema.sql, writes the configuration and starts `freeradius -f`. */
export async function startFreeRadius(o: FreeRadiusOptions): Promise<RunningFreeRadius> {
  const missing = freeRadiusMissing();
  if (missing) throw new Error(missing);
  const url = await recreateDatabase(o.database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(STOCK_SCHEMA, 'utf8'));
  } finally {
    await client.end();
  }
  const conf = writeConfig(o, new URL(databaseUrl(o.database)));
  const raddb = join(o.dir, 'raddb');
  // A configuration check first, so that an error shows its cause instead of a silent server.
  try {
    execFileSync(BINARY, ['-C', '-d', raddb], { stdio: 'pipe' });
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`freeradius -C rejected the generated configuration:\n${String(out.stdout ?? '')}${String(out.stderr ?? '')}`, { cause: e });
  }
  const version = /FreeRADIUS Version ([\d.]+)/.exec(execFileSync(BINARY, ['-v'], { encoding: 'utf8' }))?.[1] ?? '?';
  const log = join(o.dir, 'freeradius.log');
  const child: ChildProcess = spawn(BINARY, ['-f', '-d', raddb, '-l', log], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntilListening(child, log, () => stderr);
  progress(`FreeRADIUS ${version} running (pid ${child.pid}), accounting on 127.0.0.1:${o.acctPort} into ${o.database}`);
  return {
    pid: child.pid!,
    version,
    settings: `thread pool start_servers ${stockSetting(conf, 'start_servers')}, max_servers ${stockSetting(conf, 'max_servers')}, max_requests ${stockSetting(conf, 'max_requests')}, cleanup_delay ${stockSetting(conf, 'cleanup_delay')}; sql pool = thread pool (stock)`,
    async countRows() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query<{ sessions: number; stopped: number; octets: string }>(
          'SELECT count(*)::int AS sessions, count(acctstoptime)::int AS stopped, coalesce(sum(acctinputoctets + acctoutputoctets), 0)::text AS octets FROM radacct',
        );
        const row = r.rows[0]!;
        return { sessions: row.sessions, stopped: row.stopped, octets: Number(row.octets) };
      } finally {
        await c.end();
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function waitUntilListening(child: ChildProcess, log: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`freeradius exited with code ${child.exitCode}:\n${stderr()}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
    if (existsSync(log) && readFileSync(log, 'utf8').includes('Ready to process requests')) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('freeradius did not become ready within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Settings shared by the benchmarks, all from the environment, and PostgreSQL database administration. */
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres:postgres@127.0.0.1:5432';

/** The server the benchmarks create their own `meridian_bench_*` databases on. */
export const baseUrl = (): string => process.env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL;

/** A positive integer from the environment, or the default. Accepts 1_000_000, 1e6 and 1m. */
export function intEnv(name: string, def: number): number {
  const raw = process.env[name]?.trim().toLowerCase().replaceAll('_', '');
  if (!raw) return def;
  const m = /^(\d+(?:\.\d+)?)(k|m)?$/.exec(raw) ?? /^(\d+(?:\.\d+)?e\d+)()$/.exec(raw);
  const n = m ? Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'm' ? 1e6 : 1) : Number.NaN;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${process.env[name]}"`);
  return n;
}

/** Which parts of a benchmark to run: BENCH_ONLY=a,b (default every one). */
export function selected<T extends string>(all: readonly T[]): Set<T> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only?.length) return new Set(all);
  const unknown = only.filter((o) => !(all as readonly string[]).includes(o));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown part(s) ${unknown.join(', ')}; known: ${all.join(', ')}`);
  return new Set(only as T[]);
}

/** The URL of database `name` on the benchmark server. */
export function databaseUrl(name: string): string {
  const url = new URL(baseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

const checkName = (name: string): string => {
  if (!/^meridian_bench_[a-z0-9_]+$/.test(name)) throw new Error(`benchmarks only manage meridian_bench_* databases, not ${name}`);
  return name;
};

/** Runs `fn` with a connection to the server's maintenance database. */
export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Writes every dirty page out (CHECKPOINT is server-wide), so that a measurement does not pay for the set-up's writes. */
export async function checkpoint(): Promise<void> {
  await withAdmin((c) => c.query('CHECKPOINT'));
}

export async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${checkName(name)} WITH (FORCE)`));
}

/** Drops `name` if present and creates it empty (or as a copy of `template`). */
export async function recreateDatabase(name: string, template?: string): Promise<string> {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${checkName(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${checkName(template)}` : ''}`);
  });
  return databaseUrl(name);
}

/** The comment on a database: the benchmarks record there what a database holds. */
export async function databaseNote(name: string): Promise<string | null> {
  return withAdmin(async (c) => {
    const r = await c.query<{ note: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1",
      [name],
    );
    return r.rows[0]?.note ?? null;
  });
}

export async function setDatabaseNote(name: string, note: string): Promise<void> {
  await withAdmin((c) => c.query(`COMMENT ON DATABASE ${checkName(name)} IS ${pg.escapeLiteral(note)}`));
}

/** The database bench/import.ts leaves behind; bench/api.ts reuses it when it holds the right number of SIMs. */
export const IMPORT_DATABASE = 'meridian_bench_import';
export const importNote = (count: number): string => `meridian-bench import sims=${count}`;

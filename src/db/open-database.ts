import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, type Driver, Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import type { Database, Db, StatementRunner } from './database.ts';
import { migrationProvider } from './migrations/index.ts';
import { SerializedDriver } from './serialized-driver.ts';

/** PGlite has one connection: every query and transaction takes it in turn. */
class SerializedPGliteDialect extends PGliteDialect {
  override createDriver(): Driver {
    return new SerializedDriver(super.createDriver());
  }
}

export interface DatabaseOptions {
  /** postgres:// URL; without one the embedded PGlite database is used. */
  url?: string;
  /** Directory of the embedded database; `memory://` for a throw-away one. */
  dataDir: string;
  poolSize?: number;
  /** Told when an idle pooled connection fails (the server restarted, or ended it): the pool replaces it. */
  onIdleError?: (err: Error) => void;
}

export interface OpenDatabase {
  db: Db;
  dialect: 'postgres' | 'pglite';
  /** Runs hot statements: named (prepared once per connection) on PostgreSQL; through `db` on PGlite. */
  run: StatementRunner;
  close(): Promise<void>;
}

const INT8 = 20;
const parseInt8 = (v: string): number => Number(v);

/** The only place that knows whether Meridian runs on PGlite or PostgreSQL. */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: string): unknown =>
          oid === INT8 ? parseInt8 : (pg.types.getTypeParser(oid, format as 'text') as unknown)) as typeof pg.types.getTypeParser,
      },
    });
    // NOTE: without a listener, an idle connection ended by the server would throw from the pool's event emitter.
    pool.on('error', (err) => options.onIdleError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const run: StatementRunner = async ({ name, text, values }) => (await pool.query<Record<string, unknown>>({ name, text, values })).rows;
    return { db, dialect: 'postgres', run, close: () => db.destroy() };
  }
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await PGlite.create(options.dataDir, { parsers: { [INT8]: parseInt8 } });
  const db = new Kysely<Database>({ dialect: new SerializedPGliteDialect({ pglite }) });
  return { db, dialect: 'pglite', run: runThrough(db), close: () => db.destroy() };
}

/** A statement runner over Kysely (no named statements): PGlite's one connection is taken in turn with every other query. */
export const runThrough =
  (db: Db): StatementRunner =>
  async ({ text, values }) =>
    (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, values))).rows;

/** Applies every pending migration; throws with the failing migration's error. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

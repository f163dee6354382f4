import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type Dialect = 'pglite' | 'postgres';

/**
 * The dialects database tests run on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set.
 * Under CI=true a missing PostgreSQL fails the run instead of being skipped. DB=pglite|postgres narrows the list.
 */
export function testDialects(): Dialect[] {
  const url = process.env.TEST_DATABASE_URL;
  if (process.env.CI === 'true' && !url) throw new Error('CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests cannot be skipped in CI');
  const all: Dialect[] = url ? ['pglite', 'postgres'] : ['pglite'];
  const only = process.env.DB;
  return only ? all.filter((d) => d === only) : all;
}

/** A fresh, empty database for one test file: `memory://` on PGlite, a new database on PostgreSQL. */
export async function freshDatabase(dialect: Dialect, options: { onDisk?: boolean } = {}): Promise<{ url?: string; dataDir: string; drop(): Promise<void> }> {
  if (dialect === 'pglite') {
    if (!options.onDisk) return { dataDir: 'memory://', drop: async () => undefined };
    const dataDir = mkdtempSync(join(tmpdir(), 'meridian-test-'));
    return { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const name = `meridian_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir: 'memory://',
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

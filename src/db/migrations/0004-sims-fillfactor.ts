import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Room on each page of `sims` so the usage figures the engine rewrites after accounting packets (last seen,
 * today's and this cycle's bytes) can be updated in place (HOT) instead of adding entries to every index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `ALTER TABLE sims SET (fillfactor = 70)`);
}

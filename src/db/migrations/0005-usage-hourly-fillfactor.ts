import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Every group commit adds to the hourly row of each SIM it counts (one row per SIM and hour, rewritten with each
 * accounting packet of that hour). Leave room on each page so that those rewrites stay on the page and touch no
 * index (HOT updates): none of the columns they change is indexed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    ALTER TABLE usage_hourly SET (fillfactor = 50)
  `);
}

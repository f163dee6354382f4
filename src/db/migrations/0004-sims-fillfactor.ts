import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * The rows the usage engine rewrites after accounting packets (a SIM's last seen and usage figures, a session's
 * counters) are updated in place (HOT) when their page has room and no indexed column changes: leave room on
 * each page, and drop the two indexes on columns that change with every packet (nothing reads through them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    ALTER TABLE sims SET (fillfactor = 70);
    ALTER TABLE radius_sessions SET (fillfactor = 70);
    DROP INDEX sims_connection;
    DROP INDEX radius_sessions_open
  `);
}

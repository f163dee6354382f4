import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * A job's input file (a CDR or SIM file of up to a few hundred MiB) is stored out of line without compression: it
 * lives only until its job ends, and compressing it on upload cost more than the rest of the upload (118 MiB: 2.4 s
 * to insert compressed, 1.0 s uncompressed; reading it back costs the same either way).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    ALTER TABLE job_inputs ALTER COLUMN content SET STORAGE EXTERNAL
  `);
}

import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * SIM usage figures (today, cycle) that external usage (CDR files, the API) changed and that are not on the SIM row
 * yet: each commit of such usage appends one row holding the latest figures of the SIMs it counted, as JSON text, in
 * the commit of the usage itself; the engine writes the figures to `sims` later and deletes the rows, and at start
 * applies what a stop left here before it loads the SIMs. `lane`: the commit lane that wrote the row (only that lane
 * deletes it); `seq`: the engine's order of writing, within one process.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE sim_figure_journal (
      lane integer NOT NULL,
      seq bigint NOT NULL,
      figures text NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (lane, seq)
    )
  `);
}

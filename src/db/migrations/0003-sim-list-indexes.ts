import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** SIM list first pages in ICCID order for a state or a group alone, without scanning the whole table. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE INDEX sims_state_iccid ON sims (state, iccid);
    CREATE INDEX sims_group_iccid ON sims (group_id, iccid) WHERE group_id IS NOT NULL
  `);
}

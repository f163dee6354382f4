import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * When a SIM joined its plan (pool sizes prorated by days), split-billing rules by the destination class a gateway
 * reports, and the RADIUS attribute each gateway reports it in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    ALTER TABLE sims ADD COLUMN plan_joined_at timestamptz;
    ALTER TABLE traffic_rules ADD COLUMN destination_class text;
    ALTER TABLE gateways ADD COLUMN destination_class_attribute text
  `);
}

import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** Split billing (分离计费): classification rules, and the traffic class and paying account of each usage record. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE traffic_rules (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      priority integer NOT NULL,
      apn text,
      zone_id text,
      traffic_class text NOT NULL,
      payer_account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      created_by text,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX traffic_rules_account ON traffic_rules (account_id);

    ALTER TABLE usage_records ADD COLUMN traffic_class text;
    ALTER TABLE usage_records ADD COLUMN payer_account_id text;
    ALTER TABLE bill_lines ADD COLUMN traffic_class text
  `);
}

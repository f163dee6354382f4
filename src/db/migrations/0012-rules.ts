import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Automation rules and their firings. A firing is unique per rule, subject, period and stage: recording it twice
 * (a retry, two packets at once) leaves one row. Pending firings are the durable queue of their actions. A rule goes
 * with its account, and its firings with it. `sims.expires_at` is the end of a SIM's prepaid term (expiry rules).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE rules (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      definition jsonb NOT NULL,
      template_id text,
      created_by text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX rules_account ON rules (account_id, id);
    CREATE TABLE rule_firings (
      id bigserial PRIMARY KEY,
      rule_id text NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
      account_id text NOT NULL,
      subject_kind text NOT NULL,
      subject_id text NOT NULL,
      subject_account_id text NOT NULL,
      iccid text,
      period text NOT NULL,
      stage text NOT NULL,
      inputs jsonb NOT NULL,
      status text NOT NULL,
      actions jsonb NOT NULL,
      fired_at timestamptz NOT NULL,
      completed_at timestamptz
    );
    CREATE UNIQUE INDEX rule_firings_once ON rule_firings (rule_id, subject_id, period, stage);
    CREATE INDEX rule_firings_pending ON rule_firings (id) WHERE status = 'pending';
    CREATE INDEX rule_firings_account ON rule_firings (account_id, fired_at);
    CREATE INDEX rule_firings_rule ON rule_firings (rule_id, fired_at);
    ALTER TABLE sims ADD COLUMN IF NOT EXISTS expires_at timestamptz
  `);
}

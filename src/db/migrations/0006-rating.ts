import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Rating: the zone catalogue, rate plans with their versions, the plan of each SIM, the balances the usage engine
 * keeps per SIM and per pool for the current cycle, and the rating of each usage record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE zones (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      name text NOT NULL,
      countries text[] NOT NULL DEFAULT '{}',
      networks text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );

    CREATE TABLE rate_plans (
      id text NOT NULL,
      version integer NOT NULL,
      account_id text NOT NULL REFERENCES accounts(id),
      name text NOT NULL,
      effective_from timestamptz NOT NULL,
      definition jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (id, version)
    );
    CREATE INDEX rate_plans_account ON rate_plans (account_id, id);

    ALTER TABLE sims ADD COLUMN plan_id text;
    CREATE INDEX sims_plan ON sims (plan_id, iccid) WHERE plan_id IS NOT NULL;

    CREATE TABLE sim_balances (
      iccid text PRIMARY KEY,
      account_id text NOT NULL,
      cycle text NOT NULL,
      plan_id text NOT NULL,
      balance jsonb NOT NULL,
      updated_at timestamptz NOT NULL
    ) WITH (fillfactor = 70);

    CREATE TABLE pool_balances (
      account_id text NOT NULL,
      plan_id text NOT NULL,
      cycle text NOT NULL,
      size_bytes bigint NOT NULL,
      remaining_bytes bigint NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (account_id, plan_id, cycle)
    ) WITH (fillfactor = 70);

    ALTER TABLE usage_records ADD COLUMN plan_id text;
    ALTER TABLE usage_records ADD COLUMN charge_micros bigint NOT NULL DEFAULT 0;
    ALTER TABLE usage_records ADD COLUMN zone_id text;
    ALTER TABLE usage_records ADD COLUMN pieces jsonb
  `);
}

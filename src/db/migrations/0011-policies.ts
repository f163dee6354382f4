import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Communication plans and security policies: plans assigned to SIMs or groups, the per-SIM IMEI lock and bound
 * region, devices seen under a TAC lock, the operator's IMEI blacklist and high-risk areas, and policy violations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE comm_plans (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts (id),
      name text NOT NULL,
      data_enabled boolean NOT NULL DEFAULT true,
      voice_enabled boolean NOT NULL DEFAULT false,
      sms_enabled boolean NOT NULL DEFAULT false,
      apns text[] NOT NULL DEFAULT '{}',
      destinations text[] NOT NULL DEFAULT '{}',
      sms_whitelist text[] NOT NULL DEFAULT '{}',
      imei_lock text NOT NULL DEFAULT 'off',
      imei_lock_max_devices integer NOT NULL DEFAULT 10,
      region_mode text NOT NULL DEFAULT 'off',
      region_countries text[] NOT NULL DEFAULT '{}',
      region_zones text[] NOT NULL DEFAULT '{}',
      region_operators text[] NOT NULL DEFAULT '{}',
      daily_data_limit_bytes bigint,
      abnormal_daily_bytes bigint NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (account_id, name)
    );
    ALTER TABLE sims ADD COLUMN comm_plan_id text REFERENCES comm_plans (id);
    ALTER TABLE sims ADD COLUMN imei_lock text;
    ALTER TABLE sims ADD COLUMN imei_lock_max_devices integer;
    ALTER TABLE sims ADD COLUMN bound_country text;
    CREATE INDEX sims_comm_plan ON sims (comm_plan_id) WHERE comm_plan_id IS NOT NULL;
    ALTER TABLE groups ADD COLUMN comm_plan_id text REFERENCES comm_plans (id);
    CREATE TABLE sim_devices (
      iccid text NOT NULL,
      imei text NOT NULL,
      account_id text NOT NULL,
      first_seen_at timestamptz NOT NULL,
      PRIMARY KEY (iccid, imei)
    );
    CREATE TABLE imei_blacklist (
      imei text PRIMARY KEY,
      reason text,
      created_by text,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE high_risk_areas (
      code text PRIMARY KEY,
      kind text NOT NULL,
      reason text,
      created_by text,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE policy_violations (
      id bigserial PRIMARY KEY,
      account_id text NOT NULL,
      iccid text NOT NULL,
      kind text NOT NULL,
      message text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      dedupe_key text NOT NULL UNIQUE,
      occurred_at timestamptz NOT NULL
    );
    CREATE INDEX policy_violations_sim ON policy_violations (iccid, occurred_at);
    CREATE INDEX policy_violations_account ON policy_violations (account_id, occurred_at)
  `);
}

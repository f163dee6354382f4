import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE accounts (
      id text PRIMARY KEY,
      parent_id text REFERENCES accounts(id),
      path text NOT NULL UNIQUE,
      kind text NOT NULL CHECK (kind IN ('operator', 'reseller', 'enterprise')),
      name text NOT NULL,
      timezone text NOT NULL DEFAULT 'Asia/Shanghai',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX accounts_parent ON accounts (parent_id);
    CREATE INDEX accounts_path ON accounts (path text_pattern_ops);

    CREATE TABLE groups (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      name text NOT NULL,
      description text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, name)
    );

    CREATE TABLE users (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      email text NOT NULL UNIQUE,
      name text NOT NULL,
      role text NOT NULL,
      password_hash text NOT NULL,
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX users_account ON users (account_id);

    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      name text NOT NULL,
      role text NOT NULL,
      prefix text NOT NULL,
      secret_hash text NOT NULL UNIQUE,
      created_by text,
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX api_keys_account ON api_keys (account_id);

    CREATE TABLE login_sessions (
      token_hash text PRIMARY KEY,
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE sims (
      iccid text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      group_id text REFERENCES groups(id),
      state text NOT NULL,
      suspend_reason text,
      msisdn text UNIQUE,
      eid text UNIQUE,
      imei text,
      batch text,
      labels text[] NOT NULL DEFAULT '{}',
      custom_fields jsonb NOT NULL DEFAULT '{}',
      device_name text,
      state_due_at timestamptz,
      activated_at timestamptz,
      state_changed_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX sims_account_state ON sims (account_id, state, iccid);
    CREATE INDEX sims_group ON sims (group_id, state, iccid) WHERE group_id IS NOT NULL;
    CREATE INDEX sims_batch ON sims (batch) WHERE batch IS NOT NULL;
    CREATE INDEX sims_imei ON sims (imei) WHERE imei IS NOT NULL;
    CREATE INDEX sims_labels ON sims USING gin (labels);
    CREATE INDEX sims_custom_fields ON sims USING gin (custom_fields jsonb_path_ops);
    CREATE INDEX sims_state_due ON sims (state_due_at) WHERE state_due_at IS NOT NULL;

    CREATE TABLE sim_profiles (
      imsi text PRIMARY KEY,
      iccid text NOT NULL REFERENCES sims(iccid) ON DELETE CASCADE,
      position smallint NOT NULL,
      active boolean NOT NULL
    );
    CREATE INDEX sim_profiles_iccid ON sim_profiles (iccid);
    CREATE UNIQUE INDEX sim_profiles_one_active ON sim_profiles (iccid) WHERE active;

    CREATE TABLE change_records (
      id bigserial PRIMARY KEY,
      account_id text NOT NULL,
      iccid text NOT NULL,
      field text NOT NULL,
      old_value text,
      new_value text,
      source text NOT NULL CHECK (source IN ('web', 'api', 'rule', 'system', 'network')),
      actor text,
      reason text,
      status text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
      error text,
      job_id text,
      created_at timestamptz NOT NULL,
      completed_at timestamptz
    );
    CREATE INDEX change_records_sim ON change_records (iccid, id);
    CREATE INDEX change_records_account ON change_records (account_id, id);

    CREATE TABLE jobs (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      kind text NOT NULL,
      status text NOT NULL,
      dry_run boolean NOT NULL DEFAULT false,
      total integer NOT NULL DEFAULT 0,
      done integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      params jsonb NOT NULL DEFAULT '{}',
      summary jsonb NOT NULL DEFAULT '{}',
      created_by text,
      error text,
      created_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    );
    CREATE INDEX jobs_account ON jobs (account_id, created_at DESC);
    CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('queued', 'running');

    CREATE TABLE job_results (
      job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      seq integer NOT NULL,
      subject text,
      ok boolean NOT NULL,
      code text,
      message text,
      PRIMARY KEY (job_id, seq)
    );

    CREATE TABLE job_inputs (
      job_id text PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
      content text NOT NULL
    );

    CREATE TABLE idempotency_keys (
      principal text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      status_code integer,
      response_body text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (principal, key)
    );
  `);
}

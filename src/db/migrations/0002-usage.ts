import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** Network side: gateways (RADIUS clients), data sessions, usage records and hourly aggregates. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE gateways (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id),
      name text NOT NULL,
      address text NOT NULL,
      secret text NOT NULL,
      coa_port integer NOT NULL DEFAULT 3799,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );

    CREATE TABLE radius_sessions (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      iccid text NOT NULL,
      gateway_id text NOT NULL,
      acct_session_id text NOT NULL,
      multi_session_id text,
      imsi text,
      status text NOT NULL CHECK (status IN ('start', 'alive', 'stop')),
      started_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      stopped_at timestamptz,
      stop_cause text,
      bytes_in bigint NOT NULL DEFAULT 0,
      bytes_out bigint NOT NULL DEFAULT 0,
      session_seconds integer,
      apn text,
      framed_ip text,
      rat text,
      mcc_mnc text,
      cell jsonb,
      imei text,
      nas_ip text,
      charging_id text
    );
    CREATE INDEX radius_sessions_sim ON radius_sessions (iccid, started_at DESC);
    CREATE INDEX radius_sessions_open ON radius_sessions (gateway_id, last_seen_at) WHERE status <> 'stop';

    CREATE TABLE usage_records (
      id bigserial PRIMARY KEY,
      account_id text NOT NULL,
      iccid text NOT NULL,
      session_id text,
      source text NOT NULL CHECK (source IN ('radius', 'cdr', 'api')),
      record_key text,
      start_at timestamptz NOT NULL,
      end_at timestamptz NOT NULL,
      bytes_in bigint NOT NULL,
      bytes_out bigint NOT NULL,
      mcc_mnc text,
      apn text,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX usage_records_sim ON usage_records (iccid, end_at);
    CREATE UNIQUE INDEX usage_records_key ON usage_records (source, record_key) WHERE record_key IS NOT NULL;

    CREATE TABLE usage_hourly (
      iccid text NOT NULL,
      hour timestamptz NOT NULL,
      account_id text NOT NULL,
      bytes_in bigint NOT NULL,
      bytes_out bigint NOT NULL,
      records integer NOT NULL,
      PRIMARY KEY (iccid, hour)
    );
    CREATE INDEX usage_hourly_account ON usage_hourly (account_id, hour);

    ALTER TABLE sims ADD COLUMN connection_state text;
    ALTER TABLE sims ADD COLUMN last_seen_at timestamptz;
    ALTER TABLE sims ADD COLUMN usage_day text;
    ALTER TABLE sims ADD COLUMN usage_day_bytes bigint NOT NULL DEFAULT 0;
    ALTER TABLE sims ADD COLUMN usage_cycle text;
    ALTER TABLE sims ADD COLUMN usage_cycle_bytes bigint NOT NULL DEFAULT 0;
    ALTER TABLE sims ADD COLUMN test_allowance_bytes bigint;
    ALTER TABLE sims ADD COLUMN test_used_bytes bigint NOT NULL DEFAULT 0;
    CREATE INDEX sims_connection ON sims (connection_state, iccid) WHERE connection_state IS NOT NULL
  `);
}

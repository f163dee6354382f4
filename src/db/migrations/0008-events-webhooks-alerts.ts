import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** The event outbox, alerts (告警), webhook endpoints and their deliveries with every attempt. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE events (
      sequence bigserial PRIMARY KEY,
      id text NOT NULL UNIQUE,
      type text NOT NULL,
      account_id text NOT NULL,
      subject_kind text NOT NULL,
      subject_id text NOT NULL,
      data jsonb NOT NULL,
      occurred_at timestamptz NOT NULL,
      dispatched_at timestamptz
    );
    CREATE INDEX events_account ON events (account_id, sequence);
    CREATE INDEX events_subject ON events (subject_kind, subject_id, sequence);
    CREATE INDEX events_undispatched ON events (sequence) WHERE dispatched_at IS NULL;

    CREATE TABLE alerts (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      type text NOT NULL,
      severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
      subject_kind text NOT NULL,
      subject_id text NOT NULL,
      message text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      raised_at timestamptz NOT NULL,
      state text NOT NULL DEFAULT 'unhandled' CHECK (state IN ('unhandled', 'handled')),
      handled_by text,
      handled_at timestamptz,
      remark text
    );
    CREATE INDEX alerts_account ON alerts (account_id, raised_at, id);
    CREATE INDEX alerts_unhandled ON alerts (account_id, raised_at) WHERE state = 'unhandled';
    CREATE INDEX alerts_subject ON alerts (subject_kind, subject_id);

    CREATE TABLE webhook_endpoints (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      url text NOT NULL,
      description text,
      event_types text[] NOT NULL,
      secret text NOT NULL,
      state text NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'paused')),
      paused_reason text,
      paused_at timestamptz,
      consecutive_failures integer NOT NULL DEFAULT 0,
      failing_since timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

    CREATE TABLE webhook_deliveries (
      id bigserial PRIMARY KEY,
      endpoint_id text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      account_id text NOT NULL,
      event_sequence bigint NOT NULL REFERENCES events (sequence),
      event_id text NOT NULL,
      event_type text NOT NULL,
      replay boolean NOT NULL DEFAULT false,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      created_at timestamptz NOT NULL,
      finished_at timestamptz
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
    CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
    CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

    CREATE TABLE webhook_attempts (
      delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      attempt integer NOT NULL,
      started_at timestamptz NOT NULL,
      duration_ms integer NOT NULL,
      status_code integer,
      error text,
      ok boolean NOT NULL,
      PRIMARY KEY (delivery_id, attempt)
    )
  `);
}

import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Bills (账单): one per account, kind, billing month and currency, with its lines. A BRIN index on the usage records'
 * end time lets a bill run read one month of records without a per-row index on the ingest path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE bills (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('retail', 'wholesale')),
      period text NOT NULL,
      currency text NOT NULL,
      period_start timestamptz NOT NULL,
      period_end timestamptz NOT NULL,
      revision integer NOT NULL DEFAULT 1,
      total_micros bigint NOT NULL,
      total_minor bigint NOT NULL,
      usage_records bigint NOT NULL,
      issued_at timestamptz NOT NULL,
      issued_by text,
      UNIQUE (account_id, kind, period, currency)
    );
    CREATE INDEX bills_period ON bills (period, account_id);

    CREATE TABLE bill_lines (
      bill_id text NOT NULL REFERENCES bills(id) ON DELETE CASCADE,
      line_no integer NOT NULL,
      kind text NOT NULL,
      plan_id text,
      plan_name text,
      zone_id text,
      quantity bigint NOT NULL,
      bytes bigint NOT NULL,
      unit_price_micros bigint,
      amount_micros bigint NOT NULL,
      amount_minor bigint NOT NULL,
      PRIMARY KEY (bill_id, line_no)
    );

    CREATE INDEX usage_records_end_brin ON usage_records USING brin (end_at)
  `);
}

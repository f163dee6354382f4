import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * SMS as usage: one rated record per SMS a SIM sent (MO) or was sent (MT, once the SMSC accepted it), kept apart from
 * the data usage records; the SMS count of a test allowance; the price and the paying order of priced top-ups; the
 * top-up product and order of a bill line.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE sms_records (
      id bigserial PRIMARY KEY,
      dedupe_key text NOT NULL UNIQUE,
      sms_id text NOT NULL,
      account_id text NOT NULL,
      iccid text NOT NULL,
      direction text NOT NULL CHECK (direction IN ('mo', 'mt')),
      parts integer NOT NULL CHECK (parts > 0),
      plan_id text,
      cycle text NOT NULL,
      test_parts integer NOT NULL,
      included_parts integer NOT NULL,
      charged_parts integer NOT NULL,
      charge_micros bigint NOT NULL CHECK (charge_micros >= 0),
      at timestamptz NOT NULL
    );
    CREATE INDEX sms_records_sim_cycle ON sms_records (iccid, cycle);
    CREATE INDEX sms_records_at ON sms_records (at);

    ALTER TABLE sims ADD COLUMN test_allowance_sms integer;
    ALTER TABLE sims ADD COLUMN test_used_sms integer NOT NULL DEFAULT 0;

    ALTER TABLE top_ups ADD COLUMN product_id text;
    ALTER TABLE top_ups ADD COLUMN price_micros bigint;
    ALTER TABLE top_ups ADD COLUMN currency text;
    ALTER TABLE top_ups ADD COLUMN order_id text;
    CREATE INDEX top_ups_created ON top_ups (created_at) WHERE price_micros IS NOT NULL;

    ALTER TABLE bill_lines ADD COLUMN product_id text;
    ALTER TABLE bill_lines ADD COLUMN order_id text
  `);
}

import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Orders (renewals, top-up purchases, SIM orders) with their lines, status history and payments; the cart; priced
 * top-up products; prepaid terms of SIMs (expiry, reminders, cancellation); invoice requests (发票).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE top_up_products (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      bytes bigint NOT NULL CHECK (bytes > 0),
      valid_months integer NOT NULL CHECK (valid_months >= 1),
      price_micros bigint NOT NULL CHECK (price_micros >= 0),
      currency text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX top_up_products_account ON top_up_products (account_id, id);

    CREATE TABLE prepaid_terms (
      iccid text PRIMARY KEY,
      account_id text NOT NULL,
      last_month text NOT NULL,
      expiry_date text NOT NULL,
      expires_at timestamptz NOT NULL,
      cancel_at timestamptz NOT NULL,
      status text NOT NULL,
      reminded_days integer[] NOT NULL DEFAULT '{}',
      next_reminder_at timestamptz,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX prepaid_terms_expiry ON prepaid_terms (status, expires_at);
    CREATE INDEX prepaid_terms_cancel ON prepaid_terms (status, cancel_at);
    CREATE INDEX prepaid_terms_reminder ON prepaid_terms (next_reminder_at) WHERE next_reminder_at IS NOT NULL;

    CREATE TABLE cart_items (
      id text PRIMARY KEY,
      account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      kind text NOT NULL,
      item jsonb NOT NULL,
      iccids text[] NOT NULL DEFAULT '{}',
      created_by text,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX cart_items_account ON cart_items (account_id, id);

    CREATE TABLE orders (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      status text NOT NULL,
      currency text NOT NULL,
      total_micros bigint NOT NULL,
      amount_minor bigint NOT NULL,
      invoice_id text,
      created_by text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      paid_at timestamptz,
      fulfilled_at timestamptz
    );
    CREATE INDEX orders_account ON orders (account_id, id);
    CREATE INDEX orders_invoice ON orders (invoice_id) WHERE invoice_id IS NOT NULL;

    CREATE TABLE order_lines (
      order_id text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
      line_no integer NOT NULL,
      kind text NOT NULL,
      iccid text,
      plan_id text,
      product_id text,
      months integer,
      quantity integer NOT NULL,
      unit_price_micros bigint NOT NULL,
      amount_micros bigint NOT NULL,
      description text NOT NULL,
      details jsonb NOT NULL,
      status text NOT NULL,
      result text,
      fulfilled_at timestamptz,
      PRIMARY KEY (order_id, line_no)
    );
    CREATE INDEX order_lines_iccid ON order_lines (iccid) WHERE iccid IS NOT NULL;

    CREATE TABLE order_events (
      id bigserial PRIMARY KEY,
      order_id text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
      from_status text,
      to_status text NOT NULL,
      actor text,
      note text,
      at timestamptz NOT NULL
    );
    CREATE INDEX order_events_order ON order_events (order_id, id);

    CREATE TABLE payments (
      id text PRIMARY KEY,
      order_id text NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
      amount_micros bigint NOT NULL,
      method text NOT NULL,
      reference text NOT NULL,
      recorded_by text,
      paid_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL
    );

    CREATE TABLE invoice_requests (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      status text NOT NULL,
      type text NOT NULL,
      title text NOT NULL,
      tax_id text NOT NULL,
      address text,
      phone text,
      bank_name text,
      bank_account text,
      email text,
      order_ids text[] NOT NULL,
      amount_minor bigint NOT NULL,
      currency text NOT NULL,
      number text,
      issued_on text,
      reject_reason text,
      requested_by text,
      requested_at timestamptz NOT NULL,
      decided_by text,
      decided_at timestamptz
    );
    CREATE INDEX invoice_requests_account ON invoice_requests (account_id, id)
  `);
}

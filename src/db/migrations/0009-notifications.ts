import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** Notifications: e-mail messages and SMS (短信, MT and MO) with their delivery queue, SMS segments and MO parts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE email_messages (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      recipients jsonb NOT NULL,
      template text NOT NULL,
      lang text NOT NULL CHECK (lang IN ('zh', 'en')),
      subject text NOT NULL,
      body_text text NOT NULL,
      body_html text NOT NULL,
      status text NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      claimed_until timestamptz,
      last_error text,
      provider_message_id text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      sent_at timestamptz
    );
    CREATE INDEX email_messages_due ON email_messages (next_attempt_at) WHERE status = 'queued';
    CREATE INDEX email_messages_account ON email_messages (account_id, id);
    CREATE TABLE sms_messages (
      id text PRIMARY KEY,
      account_id text,
      direction text NOT NULL CHECK (direction IN ('mo', 'mt')),
      iccid text,
      msisdn text NOT NULL,
      text text NOT NULL,
      encoding text NOT NULL CHECK (encoding IN ('gsm7', 'ucs2')),
      segments integer NOT NULL,
      status text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      claimed_until timestamptz,
      last_error text,
      message_id text,
      error_code text,
      created_by text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      submitted_at timestamptz,
      done_at timestamptz
    );
    CREATE INDEX sms_messages_due ON sms_messages (next_attempt_at) WHERE status = 'queued';
    CREATE INDEX sms_messages_account ON sms_messages (account_id, id);
    CREATE INDEX sms_messages_iccid ON sms_messages (iccid, id);
    CREATE TABLE sms_segments (
      sms_id text NOT NULL,
      seq integer NOT NULL,
      smsc_message_id text NOT NULL,
      status text NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (sms_id, seq)
    );
    CREATE INDEX sms_segments_smsc ON sms_segments (smsc_message_id);
    CREATE TABLE sms_mo_parts (
      msisdn text NOT NULL,
      ref integer NOT NULL,
      total integer NOT NULL,
      seq integer NOT NULL,
      text text NOT NULL,
      encoding text NOT NULL,
      received_at timestamptz NOT NULL,
      PRIMARY KEY (msisdn, ref, total, seq)
    )
  `);
}

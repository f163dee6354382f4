import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/** Top-ups (加油包): extra data added to one SIM, usable until it expires. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE top_ups (
      id text PRIMARY KEY,
      account_id text NOT NULL,
      iccid text NOT NULL,
      bytes bigint NOT NULL CHECK (bytes > 0),
      expires_at timestamptz NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX top_ups_sim ON top_ups (iccid, created_at);
    CREATE INDEX top_ups_live ON top_ups (expires_at)
  `);
}

import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Events waiting for the webhook fan-out move from a flag on `events` to a queue table of their sequence numbers.
 * Marking an event dispatched was an update of the large `events` table that left a dead entry in its partial index
 * for every event, which each fan-out scanned again until a vacuum; the queue holds only waiting events and loses
 * them by delete, and `events` is only ever appended to. No foreign key: its rows are written by the statement that
 * inserts their events, and a check per row would cost more than the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    CREATE TABLE event_dispatch_queue (
      sequence bigint PRIMARY KEY
    );
    INSERT INTO event_dispatch_queue (sequence) SELECT sequence FROM events WHERE dispatched_at IS NULL;
    DROP INDEX events_undispatched;
    ALTER TABLE events DROP COLUMN dispatched_at
  `);
}

import { type Selectable, sql } from 'kysely';
import type { EventTable, Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { newId } from '../../shared/ids.ts';
import { isRootPath } from '../accounts/account.ts';
import { eventDefinition } from './event-catalog.ts';
import type { EventFilter, NewEvent, StoredEvent, SubjectKind } from './event.ts';

export const toEvent = (r: Selectable<EventTable>): StoredEvent => ({
  id: r.id,
  sequence: Number(r.sequence),
  type: r.type,
  accountId: r.account_id,
  subject: { kind: r.subject_kind as SubjectKind, id: r.subject_id },
  data: r.data,
  occurredAt: r.occurred_at,
});

/**
 * Writes events to the outbox and the fan-out queue in one statement. Call it with the transaction of the change the
 * events report, so an event exists exactly when its change was committed. Throws for a type missing from the
 * catalogue or a payload that does not match its schema (a programming error: the change is rolled back with it).
 */
export async function publishEvents(db: Executor, events: NewEvent[], at: Date): Promise<void> {
  if (events.length === 0) return;
  for (const e of events) {
    const definition = eventDefinition(e.type);
    if (!definition) throw new Error(`event type ${e.type} is not in the event catalogue`);
    const parsed = definition.schema.safeParse(e.data);
    if (!parsed.success) throw new Error(`event ${e.type} does not match its schema: ${parsed.error.message}`);
  }
  // NOTE: one JSON document rather than six arrays: the client escapes array elements one by one, which for event
  // payloads cost more than the statement.
  const rows = JSON.stringify(
    events.map((e, ord) => ({
      ord,
      id: newId('evt'),
      type: e.type,
      account_id: e.accountId,
      subject_kind: e.subject.kind,
      subject_id: e.subject.id,
      data: e.data,
      occurred_at: (e.occurredAt ?? at).getTime(),
    })),
  );
  await sql`
    WITH inserted AS (
      INSERT INTO events (id, type, account_id, subject_kind, subject_id, data, occurred_at)
      SELECT u.id, u.type, u.account_id, u.subject_kind, u.subject_id, u.data, to_timestamp(u.occurred_at / 1000)
      FROM json_to_recordset(${rows}::json) AS u(ord int, id text, type text, account_id text, subject_kind text, subject_id text, data jsonb,
        occurred_at float8)
      ORDER BY u.ord
      RETURNING sequence
    )
    INSERT INTO event_dispatch_queue (sequence) SELECT sequence FROM inserted`.execute(db);
}

/** Events within the scope, newest first (or oldest first with `ascending`), after the cursor's sequence. */
export async function listEvents(
  db: Executor,
  scopePath: string,
  filter: EventFilter,
  page: { after?: number; ascending: boolean; limit: number },
): Promise<StoredEvent[]> {
  let q = db.selectFrom('events').selectAll();
  if (!isRootPath(scopePath)) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.types?.length) {
    const exact = filter.types.filter((t) => !t.endsWith('*'));
    const prefixes = filter.types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
    if (prefixes.includes('')) {
      // `*` matches every type.
    } else {
      q = q.where((eb) =>
        eb.or([
          ...(exact.length ? [eb('type', '=', sql<string>`any(${exact}::text[])`)] : []),
          ...prefixes.map((p) => eb('type', 'like', `${p.replace(/[\\%_]/g, '\\$&')}%`)),
        ]),
      );
    }
  }
  if (filter.subjectKind) q = q.where('subject_kind', '=', filter.subjectKind);
  if (filter.subjectId) q = q.where('subject_id', '=', filter.subjectId);
  if (filter.from) q = q.where('occurred_at', '>=', filter.from);
  if (filter.to) q = q.where('occurred_at', '<', filter.to);
  if (page.after !== undefined) q = q.where('sequence', page.ascending ? '>' : '<', page.after);
  const rows = await q.orderBy('sequence', page.ascending ? 'asc' : 'desc').limit(page.limit).execute();
  return rows.map(toEvent);
}

/** The event with this id if its account lies under `scopePath`. */
export async function findEvent(db: Executor, id: string, scopePath: string): Promise<StoredEvent | undefined> {
  let q = db.selectFrom('events').selectAll().where('id', '=', id);
  if (!isRootPath(scopePath)) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  const row = await q.executeTakeFirst();
  return row && toEvent(row);
}

import { type ExpressionBuilder, type Selectable, sql } from 'kysely';
import type { AlertTable, Database, Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { isRootPath } from '../accounts/account.ts';
import type { SubjectKind } from '../events/event.ts';
import type { Alert, AlertFilter, AlertSeverity, AlertState } from './alert.ts';

const toAlert = (r: Selectable<AlertTable>): Alert => ({
  id: r.id,
  accountId: r.account_id,
  type: r.type,
  severity: r.severity as AlertSeverity,
  subject: { kind: r.subject_kind as SubjectKind, id: r.subject_id },
  message: r.message,
  data: r.data,
  raisedAt: r.raised_at,
  state: r.state as AlertState,
  handledBy: r.handled_by,
  handledAt: r.handled_at,
  remark: r.remark,
});

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, '\\$&');

/** Inserts alerts in one statement. */
export async function insertAlerts(db: Executor, alerts: Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  const col = <T>(f: (a: Alert) => T) => alerts.map(f);
  await sql`
    INSERT INTO alerts (id, account_id, type, severity, subject_kind, subject_id, message, data, raised_at)
    SELECT * FROM unnest(${col((a) => a.id)}::text[], ${col((a) => a.accountId)}::text[], ${col((a) => a.type)}::text[],
      ${col((a) => a.severity)}::text[], ${col((a) => a.subject.kind)}::text[], ${col((a) => a.subject.id)}::text[],
      ${col((a) => a.message)}::text[], ${col((a) => JSON.stringify(a.data))}::jsonb[], ${col((a) => a.raisedAt)}::timestamptz[])`.execute(db);
}

function filtered(db: Executor, scopePath: string, f: AlertFilter) {
  let q = db.selectFrom('alerts');
  if (!isRootPath(scopePath)) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (f.ids?.length) q = q.where('id', '=', sql<string>`any(${f.ids}::text[])`);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.types?.length) q = q.where('type', '=', sql<string>`any(${f.types}::text[])`);
  if (f.severities?.length) q = q.where('severity', '=', sql<string>`any(${f.severities}::text[])`);
  if (f.states?.length) q = q.where('state', '=', sql<string>`any(${f.states}::text[])`);
  if (f.subjectKind) q = q.where('subject_kind', '=', f.subjectKind);
  if (f.subjectId) q = q.where('subject_id', '=', f.subjectId);
  if (f.handledBy) q = q.where('handled_by', '=', f.handledBy);
  if (f.from) q = q.where('raised_at', '>=', f.from);
  if (f.to) q = q.where('raised_at', '<', f.to);
  for (const word of (f.text ?? '').split(/\s+/).filter(Boolean)) {
    const pattern = `%${escapeLike(word)}%`;
    q = q.where((eb: ExpressionBuilder<Database, 'alerts'>) =>
      eb.or([eb('message', 'ilike', pattern), eb('type', 'ilike', pattern), eb('subject_id', 'ilike', pattern), eb('remark', 'ilike', pattern)]),
    );
  }
  return q;
}

/** Alerts within the scope matching the filter, newest first, after the cursor. */
export async function listAlerts(
  db: Executor,
  scopePath: string,
  filter: AlertFilter,
  page: { before?: { raisedAt: Date; id: string }; limit: number },
): Promise<Alert[]> {
  let q = filtered(db, scopePath, filter).selectAll();
  const before = page.before;
  if (before) {
    q = q.where((eb) => eb.or([eb('raised_at', '<', before.raisedAt), eb.and([eb('raised_at', '=', before.raisedAt), eb('id', '<', before.id)])]));
  }
  const rows = await q.orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
  return rows.map(toAlert);
}

export async function findAlert(db: Executor, id: string, scopePath: string): Promise<Alert | undefined> {
  const row = await filtered(db, scopePath, { ids: [id] }).selectAll().executeTakeFirst();
  return row && toAlert(row);
}

/**
 * Marks unhandled alerts within the scope that match the filter as handled, at most `limit` of them, oldest first;
 * returns the alerts it changed.
 */
export async function handleAlerts(
  db: Executor,
  scopePath: string,
  filter: AlertFilter,
  change: { handledBy: string; remark: string | null; at: Date },
  limit: number,
): Promise<Alert[]> {
  const ids = filtered(db, scopePath, { ...filter, states: ['unhandled'] })
    .select('id')
    .orderBy('raised_at')
    .orderBy('id')
    .limit(limit);
  // NOTE: the state condition is repeated on the row being updated, so two requests handling the same alert at once
  // change it once; the second finds it handled and leaves it.
  const rows = await db
    .updateTable('alerts')
    .set({ state: 'handled', handled_by: change.handledBy, handled_at: change.at, remark: change.remark })
    .where('id', 'in', ids)
    .where('state', '=', 'unhandled')
    .returningAll()
    .execute();
  return rows.map(toAlert);
}

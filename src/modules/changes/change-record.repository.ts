import { type Selectable, type SqlBool, sql } from 'kysely';
import type { ChangeRecordTable, Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { ChangeSource } from '../sims/sim.ts';
import type { ChangeRecord, ChangeStatus, NewChangeRecord } from './change-record.ts';

const toRecord = (r: Selectable<ChangeRecordTable>): ChangeRecord => ({
  id: Number(r.id),
  accountId: r.account_id,
  iccid: r.iccid,
  field: r.field,
  oldValue: r.old_value,
  newValue: r.new_value,
  source: r.source as ChangeSource,
  actor: r.actor,
  reason: r.reason,
  status: r.status as ChangeStatus,
  error: r.error,
  jobId: r.job_id,
  createdAt: r.created_at,
  completedAt: r.completed_at,
});

/** Inserts change records in one statement; returns their ids in input order. */
export async function insertChangeRecords(db: Executor, records: NewChangeRecord[]): Promise<number[]> {
  if (records.length === 0) return [];
  const col = <K extends keyof NewChangeRecord>(k: K) => records.map((r) => r[k] ?? null);
  const rows = await sql<{ id: number }>`
    INSERT INTO change_records (account_id, iccid, field, old_value, new_value, source, actor, reason, status, error, job_id, created_at, completed_at)
    SELECT * FROM unnest(
      ${col('accountId')}::text[], ${col('iccid')}::text[], ${col('field')}::text[], ${col('oldValue')}::text[],
      ${col('newValue')}::text[], ${col('source')}::text[], ${col('actor')}::text[], ${col('reason')}::text[],
      ${col('status')}::text[], ${col('error')}::text[], ${col('jobId')}::text[], ${col('createdAt')}::timestamptz[],
      ${col('completedAt')}::timestamptz[])
    RETURNING id`.execute(db);
  return rows.rows.map((r) => Number(r.id));
}

export async function completeChangeRecords(db: Executor, ids: number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('change_records')
    .set({ status: 'completed', completed_at: at })
    .where('id', '=', sql<number>`any(${ids}::bigint[])`)
    .execute();
}

export async function failChangeRecords(db: Executor, failures: { id: number; error: string }[], at: Date): Promise<void> {
  if (failures.length === 0) return;
  await sql`
    UPDATE change_records SET status = 'failed', error = u.error, completed_at = ${at}
    FROM unnest(${failures.map((f) => f.id)}::bigint[], ${failures.map((f) => f.error)}::text[]) AS u(id, error)
    WHERE change_records.id = u.id`.execute(db);
}

/** Marks every pending record as failed with `error`; returns how many. */
export async function failPendingChangeRecords(db: Executor, at: Date, error: string): Promise<number> {
  const res = await db
    .updateTable('change_records')
    .set({ status: 'failed', error, completed_at: at })
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export interface ChangeRecordFilter {
  iccid?: string;
  field?: string;
  source?: ChangeSource;
  status?: ChangeStatus;
  jobId?: string;
  from?: Date;
  to?: Date;
  /** Records with ids below this (newest first). */
  before?: number;
  limit: number;
}

export async function listChangeRecords(
  db: Executor,
  scope: { path: string; isRoot: boolean },
  f: ChangeRecordFilter,
): Promise<ChangeRecord[]> {
  let q = db.selectFrom('change_records').selectAll();
  if (!scope.isRoot) {
    q = q.where('account_id', 'in', accountIdsUnder(db, scope.path));
  }
  if (f.iccid) q = q.where('iccid', '=', f.iccid);
  if (f.field) q = q.where('field', '=', f.field);
  if (f.source) q = q.where('source', '=', f.source);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.jobId) q = q.where('job_id', '=', f.jobId);
  if (f.from) q = q.where('created_at', '>=', f.from);
  if (f.to) q = q.where('created_at', '<', f.to);
  if (f.before) q = q.where(sql<SqlBool>`id < ${f.before}`);
  return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(toRecord);
}

import { type Selectable, sql } from 'kysely';
import type { Executor, JobTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { Job, JobKind, JobResult, JobStatus } from './job.ts';

const toJob = (r: Selectable<JobTable>): Job => ({
  id: r.id,
  accountId: r.account_id,
  kind: r.kind as JobKind,
  status: r.status as JobStatus,
  dryRun: r.dry_run,
  total: r.total,
  done: r.done,
  failed: r.failed,
  params: r.params,
  summary: r.summary,
  createdBy: r.created_by,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export async function insertJob(
  db: Executor,
  j: { id: string; accountId: string; kind: JobKind; dryRun: boolean; total: number; params: Record<string, unknown>; createdBy: string | null; now: Date },
  input: string,
): Promise<Job> {
  const row = await db
    .insertInto('jobs')
    .values({
      id: j.id,
      account_id: j.accountId,
      kind: j.kind,
      status: 'queued',
      dry_run: j.dryRun,
      total: j.total,
      params: JSON.stringify(j.params),
      summary: '{}',
      created_by: j.createdBy,
      created_at: j.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db.insertInto('job_inputs').values({ job_id: j.id, content: input }).execute();
  return toJob(row);
}

export async function findJob(db: Executor, id: string, scopePath?: string): Promise<Job | undefined> {
  let q = db.selectFrom('jobs').selectAll().where('id', '=', id);
  if (scopePath !== undefined) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  const row = await q.executeTakeFirst();
  return row && toJob(row);
}

export async function listJobs(
  db: Executor,
  scopePath: string,
  f: { kind?: JobKind; status?: JobStatus; before?: string; limit: number },
): Promise<Job[]> {
  let q = db
    .selectFrom('jobs')
    .selectAll()
    .where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.before) q = q.where('id', '<', f.before);
  return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(toJob);
}

export async function readJobInput(db: Executor, id: string): Promise<string> {
  const row = await db.selectFrom('job_inputs').select('content').where('job_id', '=', id).executeTakeFirst();
  return row?.content ?? '';
}

/** The oldest queued job, marked running; undefined when none waits. */
export async function claimNextJob(db: Executor, now: Date): Promise<Job | undefined> {
  const rows = await sql<Selectable<JobTable>>`
    UPDATE jobs SET status = 'running', started_at = coalesce(started_at, ${now})
    WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  const row = rows.rows[0];
  return row && toJob(row);
}

/** Jobs left running by a stopped process go back to the queue; they restart from the beginning. */
export async function requeueRunningJobs(db: Executor): Promise<number> {
  const res = await db.updateTable('jobs').set({ status: 'queued', done: 0, failed: 0 }).where('status', '=', 'running').executeTakeFirst();
  const ids = db.selectFrom('jobs').select('id').where('status', '=', 'queued');
  await db.deleteFrom('job_results').where('job_id', 'in', ids).execute();
  return Number(res.numUpdatedRows);
}

export async function recordProgress(
  db: Executor,
  id: string,
  results: JobResult[],
  progress: { done?: number; total?: number } = {},
): Promise<void> {
  if (results.length > 0) {
    await sql`
      INSERT INTO job_results (job_id, seq, subject, ok, code, message)
      SELECT ${id}, * FROM unnest(
        ${results.map((r) => r.seq)}::int[], ${results.map((r) => r.subject)}::text[], ${results.map((r) => r.ok)}::bool[],
        ${results.map((r) => r.code)}::text[], ${results.map((r) => r.message)}::text[])
      ON CONFLICT (job_id, seq) DO NOTHING`.execute(db);
  }
  const failed = results.filter((r) => !r.ok).length;
  await db
    .updateTable('jobs')
    .set((eb) => ({
      done: eb('done', '+', progress.done ?? results.length),
      failed: eb('failed', '+', failed),
      ...(progress.total === undefined ? {} : { total: progress.total }),
    }))
    .where('id', '=', id)
    .execute();
}

export async function finishJob(
  db: Executor,
  id: string,
  outcome: { status: 'completed' | 'failed' | 'cancelled'; summary?: Record<string, unknown>; error?: string; now: Date },
): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: outcome.status, summary: JSON.stringify(outcome.summary ?? {}), error: outcome.error ?? null, finished_at: outcome.now })
    .where('id', '=', id)
    .execute();
  await db.deleteFrom('job_inputs').where('job_id', '=', id).execute();
}

export async function setJobStatus(db: Executor, id: string, from: JobStatus, to: JobStatus): Promise<boolean> {
  const res = await db.updateTable('jobs').set({ status: to }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function listJobResults(
  db: Executor,
  id: string,
  f: { ok?: boolean; after?: number; limit: number },
): Promise<JobResult[]> {
  let q = db.selectFrom('job_results').select(['seq', 'subject', 'ok', 'code', 'message']).where('job_id', '=', id);
  if (f.ok !== undefined) q = q.where('ok', '=', f.ok);
  if (f.after !== undefined) q = q.where('seq', '>', f.after);
  return q.orderBy('seq').limit(f.limit).execute();
}

import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import type { Job, JobKind, JobResult, JobStatus } from './job.ts';
import * as repo from './job.repository.ts';

/** Creating, reading and cancelling jobs; the runner in `src/jobs/` executes them. */
export class JobService {
  private readonly wakeListeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  onEnqueued(listener: () => void): void {
    this.wakeListeners.push(listener);
  }

  async enqueue(
    principal: Principal,
    j: { accountId: string; kind: JobKind; dryRun: boolean; total: number; params: Record<string, unknown> },
    input: string,
  ): Promise<Job> {
    const job = await this.db
      .transaction()
      .execute((trx) => repo.insertJob(trx, { ...j, id: newId('job'), createdBy: principal.actor, now: this.clock.now() }, input));
    for (const wake of this.wakeListeners) wake();
    return job;
  }

  async getJob(principal: Principal, id: string): Promise<Job> {
    const job = await repo.findJob(this.db, id, principal.accountPath);
    if (!job) throw notFound('job', id);
    return job;
  }

  listJobs(principal: Principal, f: { kind?: JobKind; status?: JobStatus; before?: string; limit: number }): Promise<Job[]> {
    return repo.listJobs(this.db, principal.accountPath, f);
  }

  async listResults(principal: Principal, id: string, f: { ok?: boolean; after?: number; limit: number }): Promise<JobResult[]> {
    await this.getJob(principal, id);
    return repo.listJobResults(this.db, id, f);
  }

  /** Cancels a job that has not started yet. */
  async cancelJob(principal: Principal, id: string): Promise<Job> {
    requirePermission(principal, 'sims:write');
    const job = await this.getJob(principal, id);
    if (!(await repo.setJobStatus(this.db, id, 'queued', 'cancelled'))) {
      throw conflict('job_not_cancellable', `job ${id} is ${job.status}; only queued jobs can be cancelled`);
    }
    await repo.finishJob(this.db, id, { status: 'cancelled', now: this.clock.now() });
    return this.getJob(principal, id);
  }
}

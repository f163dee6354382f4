import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import * as repo from '../modules/jobs/job.repository.ts';
import { type Job, type JobContext, type JobHandler, JobInterrupted, type JobKind } from '../modules/jobs/job.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';

/** Executes queued jobs one at a time, durably: jobs survive a restart and resume from the queue. */
export class JobRunner {
  private running = false;
  private stopRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly handlers: Record<JobKind, JobHandler>,
    private readonly log: Logger,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    const requeued = await repo.requeueRunningJobs(this.db);
    if (requeued > 0) this.log.info({ requeued }, 'jobs interrupted by the last stop were queued again');
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for queued work now. */
  wake(): void {
    if (this.running || this.stopRequested) return;
    this.running = true;
    this.current = this.drain()
      .catch((err: unknown) => this.log.error({ err }, 'job runner pass failed; retrying at the next poll'))
      .finally(() => {
        this.running = false;
      });
  }

  /** Waits for the job in progress, then runs every queued job; resolves when the queue is empty. */
  async settle(): Promise<void> {
    await this.current;
    await this.drain();
  }

  /** Runs every queued job; resolves when the queue is empty. */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopRequested) return;
      const job = await repo.claimNextJob(this.db, this.clock.now());
      if (!job) return;
      await this.execute(job);
    }
  }

  private async execute(job: Job): Promise<void> {
    const handler = this.handlers[job.kind];
    const ctx: JobContext = {
      job,
      input: await repo.readJobInput(this.db, job.id),
      report: (results, progress) => repo.recordProgress(this.db, job.id, results, progress),
      stopping: () => this.stopRequested,
    };
    const started = Date.now();
    try {
      const summary = await handler(ctx);
      await repo.finishJob(this.db, job.id, { status: 'completed', summary, now: this.clock.now() });
      this.log.info({ jobId: job.id, kind: job.kind, ms: Date.now() - started, ...summary }, 'job completed');
    } catch (e) {
      if (e instanceof JobInterrupted) {
        this.log.info({ jobId: job.id }, 'job interrupted by shutdown; it will run again at the next start');
        return;
      }
      const message = e instanceof AppError ? e.message : `internal error: ${(e as Error).message}`;
      this.log.error({ jobId: job.id, err: e }, 'job failed');
      await repo.finishJob(this.db, job.id, { status: 'failed', error: message, now: this.clock.now() });
    }
  }

  /** Stops taking jobs and waits for the running one to reach a chunk boundary. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.timer) clearInterval(this.timer);
    await this.current;
  }
}

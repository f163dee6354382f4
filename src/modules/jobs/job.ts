export const JOB_KINDS = ['sim_import', 'bulk_change', 'cdr_import'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A long-running piece of work with progress (大批异动, SIM import). */
export interface Job {
  id: string;
  accountId: string;
  kind: JobKind;
  status: JobStatus;
  dryRun: boolean;
  total: number;
  done: number;
  failed: number;
  params: Record<string, unknown>;
  summary: Record<string, unknown>;
  createdBy: string | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The outcome for one row or one SIM of a job. */
export interface JobResult {
  seq: number;
  subject: string | null;
  ok: boolean;
  code: string | null;
  message: string | null;
}

export interface JobContext {
  job: Job;
  input: string;
  /**
   * Records the results of a chunk and advances the progress counters: `done` rows (default: one per result;
   * more when plain successes are counted without a result row of their own), and the total when now known.
   */
  report(results: JobResult[], progress?: { done?: number; total?: number }): Promise<void>;
  /** True once shutdown began: a handler stops between chunks by throwing `JobInterrupted`. */
  stopping(): boolean;
}

export type JobHandler = (ctx: JobContext) => Promise<Record<string, unknown>>;

export class JobInterrupted extends Error {}

export const JOB_KINDS = ['sim_import', 'bulk_change'] as const;
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

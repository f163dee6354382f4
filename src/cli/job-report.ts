/** Following a job (import or bulk change) to its end and reporting how it went. */
import type { Page } from './api-client.ts';
import { type Context, EXIT } from './command-kit.ts';
import { type Column, plural, renderFields, renderTable, time } from './output.ts';

export interface JobDto {
  id: string;
  accountId: string;
  kind: string;
  status: string;
  dryRun: boolean;
  total: number;
  done: number;
  failed: number;
  summary: Record<string, unknown>;
  createdBy: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobResultDto {
  seq: number;
  subject: string | null;
  ok: boolean;
  code: string | null;
  message: string | null;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
/** Failed rows printed in the human report; the rest are counted (`jobs results --failed` lists all). */
const FAILED_ROWS_SHOWN = 100;

export const isFinished = (job: JobDto): boolean => FINISHED.has(job.status);

const kindLabel = (job: JobDto): string => `${job.dryRun ? 'dry-run ' : ''}${job.kind === 'sim_import' ? 'import' : job.kind === 'bulk_change' ? 'bulk change' : job.kind === 'cdr_import' ? 'CDR import' : job.kind}`;
const isImport = (job: JobDto): boolean => job.kind === 'sim_import' || job.kind === 'cdr_import';
const unit = (job: JobDto): string => (isImport(job) ? 'rows' : 'SIMs');
/** What a result's subject is: a record id for CDR files, an ICCID otherwise. */
const subjectHeader = (job: JobDto): string => (job.kind === 'cdr_import' ? 'RECORD' : 'ICCID');

function progressLine(job: JobDto): string {
  const pct = job.total > 0 ? ` (${Math.floor((100 * job.done) / job.total)}%)` : '';
  const failed = job.failed ? `, ${job.failed} failed` : '';
  return `${kindLabel(job)} ${job.id}: ${job.status} ${job.done}/${job.total} ${unit(job)}${pct}${failed}`;
}

/** Polls the job until it finishes, drawing progress on stderr. Ctrl-C stops waiting, not the job. */
export async function waitForJob(ctx: Context<object>, start: JobDto): Promise<JobDto> {
  const { out, client } = ctx;
  let job = start;
  let delayMs = 100;
  let last = '';
  let lastStatus = '';
  let lastPrintedAt = 0;
  const onInterrupt = () => {
    out.endProgress();
    out.note(`stopped waiting; job ${job.id} goes on on the server. Follow it with: meridian jobs show ${job.id} --wait`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      const line = progressLine(job);
      // NOTE: on a pipe, one line per status change and at most one progress line every 5 s.
      if (line !== last && (out.interactive || job.status !== lastStatus || Date.now() - lastPrintedAt >= 5000)) {
        out.progress(line);
        last = line;
        lastStatus = job.status;
        lastPrintedAt = Date.now();
      }
      if (isFinished(job)) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(1000, Math.round(delayMs * 1.5));
      job = await client.get<JobDto>(`/jobs/${encodeURIComponent(job.id)}`);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    out.endProgress();
  }
  return job;
}

/** Summary counters in reading order; others follow. */
const SUMMARY_ORDER = ['rows', 'created', 'succeeded', 'unchanged', 'failed'];
const SUMMARY_WORDS: Record<string, [string, string]> = {
  created: ['created', 'would be created'],
  succeeded: ['changed', 'would change'],
};

/** `5 rows, 3 created, 0 unchanged, 2 failed` from a job's summary (or its counters). */
export function summaryText(job: JobDto): string {
  const rank = (k: string) => (SUMMARY_ORDER.includes(k) ? SUMMARY_ORDER.indexOf(k) : SUMMARY_ORDER.length);
  const entries = (Object.entries(job.summary).filter(([, v]) => typeof v === 'number') as [string, number][]).sort(
    ([a], [b]) => rank(a) - rank(b),
  );
  const parts = entries.length
    ? entries.map(([k, v]) => (k === 'rows' ? plural(v, 'row') : `${v} ${SUMMARY_WORDS[k]?.[job.dryRun ? 1 : 0] ?? k}`))
    : [`${job.done}/${job.total} ${unit(job)} done`, `${job.failed} failed`];
  if (job.kind === 'bulk_change') parts.unshift(plural(job.total, 'SIM'));
  return parts.join(', ');
}

export function failedColumns(job: JobDto): Column<JobResultDto>[] {
  const columns: Column<JobResultDto>[] = [
    { header: subjectHeader(job), value: (r) => r.subject },
    { header: 'CODE', value: (r) => r.code },
    { header: 'MESSAGE', value: (r) => r.message },
  ];
  return isImport(job) ? [{ header: 'LINE', value: (r) => r.seq, align: 'right' }, ...columns] : columns;
}

/** Columns of a job's results, all of them. */
export function resultColumns(job: JobDto): Column<JobResultDto>[] {
  return [
    { header: isImport(job) ? 'LINE' : '#', value: (r) => r.seq, align: 'right' },
    { header: subjectHeader(job), value: (r) => r.subject },
    { header: 'OK', value: (r) => r.ok },
    { header: 'CODE', value: (r) => r.code },
    { header: 'MESSAGE', value: (r) => r.message },
  ];
}

/** The failed results of a job: all of them, or the first page of `limit`. */
async function failedResults(ctx: Context<object>, job: JobDto, limit?: number): Promise<{ items: JobResultDto[]; more: boolean }> {
  if (job.failed === 0) return { items: [], more: false };
  const path = `/jobs/${encodeURIComponent(job.id)}/results`;
  if (limit === undefined) return { items: await ctx.client.all<JobResultDto>(path, { ok: 'false' }, 10_000), more: false };
  const page = await ctx.client.get<Page<JobResultDto>>(path, { ok: 'false', limit });
  return { items: page.items, more: page.nextCursor !== null };
}

/**
 * Reports a finished job: a summary line and the failed rows (`--json`: `{ job, failed }`).
 * Returns the exit code: 0 all good, 3 some rows failed, 1 the job failed or was cancelled.
 */
export async function reportFinishedJob(ctx: Context<object>, job: JobDto): Promise<number> {
  const { out } = ctx;
  const json = ctx.opts.json === true;
  const failed = await failedResults(ctx, job, json ? undefined : FAILED_ROWS_SHOWN);
  if (json) {
    out.json({ job, failed: failed.items });
  } else {
    const label = kindLabel(job);
    out.print(`${label[0]!.toUpperCase()}${label.slice(1)} ${job.id} ${job.status}: ${summaryText(job)}.\n`);
    if (job.dryRun && job.status === 'completed') out.print('Dry run: nothing was changed.\n');
    if (failed.items.length) {
      out.print(`\nFailed ${unit(job)}:\n`);
      out.print(renderTable(failed.items, failedColumns(job)));
      if (failed.more) out.note(`… ${job.failed - failed.items.length} more; list them all with: meridian jobs results ${job.id} --failed --all`);
    }
  }
  if (job.status === 'failed') {
    out.note(`error: job ${job.id} failed: ${job.error ?? 'no reason given'}`);
    return EXIT.error;
  }
  if (job.status === 'cancelled') {
    out.note(`error: job ${job.id} was cancelled`);
    return EXIT.error;
  }
  return job.failed > 0 ? EXIT.partial : EXIT.ok;
}

/** Prints a job that was queued without waiting for it. */
export function reportQueuedJob(ctx: Context<object>, job: JobDto): void {
  if (ctx.opts.json) return ctx.out.json(job);
  ctx.out.print(`${job.id}\n`);
  ctx.out.note(`${kindLabel(job)} job ${job.id} ${job.status} (${job.total} ${unit(job)}); follow it with: meridian jobs show ${job.id} --wait`);
}

/** Waits for a job unless `--no-wait`, then reports it; returns the exit code. */
export async function followJob(ctx: Context<{ wait?: boolean }>, job: JobDto): Promise<number> {
  if (ctx.opts.wait === false) {
    reportQueuedJob(ctx, job);
    return EXIT.ok;
  }
  return reportFinishedJob(ctx, await waitForJob(ctx, job));
}

/** The fields of one job, for `jobs show`. */
export function jobFields(job: JobDto): string {
  return renderFields([
    ['ID', job.id],
    ['Kind', job.kind],
    ['Status', job.status],
    ['Dry run', job.dryRun],
    ['Account', job.accountId],
    ['Progress', `${job.done}/${job.total} ${unit(job)}`],
    ['Failed', job.failed],
    ['Summary', Object.keys(job.summary).length ? summaryText(job) : undefined],
    ['Error', job.error],
    ['Created by', job.createdBy],
    ['Created at', time(job.createdAt)],
    ['Started at', time(job.startedAt)],
    ['Finished at', time(job.finishedAt)],
  ]);
}

/** `meridian jobs …`: imports and bulk changes, their progress and per-row results. */
import { type Command, Option } from 'commander';
import { JOB_KINDS, JOB_STATUSES } from '../modules/jobs/job.ts';
import type { Page } from './api-client.ts';
import { addPaging, apiCommand, type Context, EXIT, fetchList, type PagingOptions, printList, run } from './command-kit.ts';
import { failedColumns, isFinished, type JobDto, jobFields, type JobResultDto, resultColumns, waitForJob } from './job-report.ts';
import { renderTable, time } from './output.ts';

const FAILED_ROWS_SHOWN = 100;
const jobPath = (id: string, rest = ''): string => `/jobs/${encodeURIComponent(id)}${rest}`;

/** `jobs show` / `bulk show`: the job's fields and its first failed rows; with `--wait`, after it finished. */
export async function showJob(ctx: Context<{ wait?: boolean }>, id: string): Promise<number> {
  let job = await ctx.client.get<JobDto>(jobPath(id));
  if (ctx.opts.wait) job = await waitForJob(ctx, job);
  if (ctx.opts.json) ctx.out.json(job);
  else {
    ctx.out.print(jobFields(job));
    if (job.failed > 0) {
      const page = await ctx.client.get<Page<JobResultDto>>(jobPath(job.id, '/results'), { ok: 'false', limit: FAILED_ROWS_SHOWN });
      ctx.out.print(`\nFailed:\n${renderTable(page.items, failedColumns(job))}`);
      if (page.nextCursor !== null) ctx.out.note(`… more; list them all with: meridian jobs results ${job.id} --failed --all`);
    }
    if (!isFinished(job)) ctx.out.note(`job ${job.id} is ${job.status}; wait for it with: meridian jobs show ${job.id} --wait`);
  }
  if (!ctx.opts.wait) return EXIT.ok;
  if (job.status === 'failed' || job.status === 'cancelled') return EXIT.error;
  return job.failed > 0 ? EXIT.partial : EXIT.ok;
}

export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('jobs (imports and bulk changes): progress, results, cancel');

  addPaging(
    apiCommand(jobs, 'list', 'list jobs, newest first')
      .addOption(new Option('--kind <kind>', 'only jobs of this kind').choices(JOB_KINDS))
      .addOption(new Option('--status <status>', 'only jobs with this status').choices(JOB_STATUSES)),
    50,
  ).action(
    run<PagingOptions & { kind?: string; status?: string }>(async (ctx) => {
      const page = await fetchList<JobDto>(ctx, '/jobs', { kind: ctx.opts.kind, status: ctx.opts.status }, 50);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (j) => j.id },
          { header: 'KIND', value: (j) => j.kind },
          { header: 'STATUS', value: (j) => j.status },
          { header: 'DRY RUN', value: (j) => j.dryRun },
          { header: 'DONE', value: (j) => `${j.done}/${j.total}`, align: 'right' },
          { header: 'FAILED', value: (j) => j.failed, align: 'right' },
          { header: 'CREATED', value: (j) => time(j.createdAt) },
          { header: 'CREATED BY', value: (j) => j.createdBy },
        ],
        'jobs',
      );
    }),
  );

  apiCommand(jobs, 'show', 'show a job with its progress and failed rows')
    .argument('<job>', 'job id')
    .option('--wait', 'wait for the job to finish first (exit code 3 when rows failed, 1 when the job failed)')
    .action(run<{ wait?: boolean }>(async (ctx) => showJob(ctx, ctx.arg(0))));

  addPaging(
    apiCommand(jobs, 'results', 'per-row (import) or per-SIM (bulk change) results of a job')
      .argument('<job>', 'job id')
      .option('--failed', 'only the rows that failed'),
    1000,
  ).action(
    run<PagingOptions & { failed?: boolean }>(async (ctx) => {
      const job = await ctx.client.get<JobDto>(jobPath(ctx.arg(0)));
      const page = await fetchList<JobResultDto>(ctx, jobPath(job.id, '/results'), { ok: ctx.opts.failed ? 'false' : undefined }, 1000);
      printList(ctx, page, resultColumns(job), ctx.opts.failed ? 'failed results' : 'results');
    }),
  );

  apiCommand(jobs, 'cancel', 'cancel a job that has not started yet')
    .argument('<job>', 'job id')
    .action(
      run(async (ctx) => {
        const job = await ctx.client.post<JobDto>(jobPath(ctx.arg(0), '/cancel'));
        if (ctx.opts.json) return ctx.out.json(job);
        ctx.out.print(`job ${job.id} ${job.status}\n`);
      }),
    );
}

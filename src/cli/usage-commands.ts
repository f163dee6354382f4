import type { Command } from 'commander';
import { apiCommand, readInput, run, UsageError } from './command-kit.ts';
import { followJob, type JobDto } from './job-report.ts';

/** `meridian usage …`: usage records from the network that arrive as files. */
export function registerUsageCommands(program: Command): void {
  const usage = program.command('usage').description('usage records: import CDR files');
  apiCommand(usage, 'import-cdr', 'import a CDR file (usage records) as a job and wait for it (failed rows are listed)')
    .argument('<file>', "CSV file with a header row; '-' reads standard input")
    .option('--no-wait', 'print the job id and return at once instead of waiting')
    .addHelpText(
      'after',
      '\nColumns: record_id, iccid or imsi, start_time, end_time (ISO 8601 with a zone), bytes_up, bytes_down, mcc_mnc, apn, destination.\n' +
        'A record_id imported before is skipped, so importing a file again adds nothing.\n' +
        'Exit code: 0 every row recorded or skipped as a duplicate, 3 some rows failed (they are listed), 1 error.',
    )
    .action(
      run<{ wait?: boolean }>(async (ctx) => {
        const file = ctx.arg(0);
        const csv = await readInput(file);
        if (!csv.trim()) throw new UsageError(`${file} is empty; the first line must name the columns (record_id,iccid,…)`);
        const job = await ctx.client.post<JobDto>('/usage/cdr-imports', undefined, { text: csv, contentType: 'text/csv' });
        return followJob(ctx, job);
      }),
    );
}

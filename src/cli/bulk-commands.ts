/** `meridian bulk …`: one change applied to many SIMs (大批异动) as a job. */
import { Argument, type Command, Option } from 'commander';
import { SIM_STATES, SUSPEND_REASONS } from '../modules/sims/sim.ts';
import {
  apiCommand,
  collect,
  collectOneOf,
  type Context,
  integer,
  keyValue,
  readInput,
  repeat,
  run,
  UsageError,
} from './command-kit.ts';
import { showJob } from './job-commands.ts';
import { followJob, type JobDto } from './job-report.ts';
import { resolveGroupId } from './sim-commands.ts';

interface SelectionOptions {
  iccidsFile?: string;
  stateFilter?: string[];
  group?: string;
  label?: string[];
  account?: string;
  batch?: string;
  field?: Record<string, string>;
  allSims?: boolean;
}

interface CommonOptions extends SelectionOptions {
  dryRun?: boolean;
  reason?: string;
  idempotencyKey?: string;
  wait?: boolean;
}

type Selection = { iccids: string[] } | { filter: Record<string, unknown> };

/**
 * ICCIDs from a file: one per line; blank lines, `#` comments and a header line are skipped, and of a
 * CSV line only the first column is read (so an import file works as a selection too).
 */
export function parseIccidList(text: string, file: string): string[] {
  const iccids: string[] = [];
  const bad: string[] = [];
  let seenContent = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (!line || line.startsWith('#')) return;
    const first = (line.split(/[,;\t ]/, 1)[0] ?? '').replace(/^"(.*)"$/, '$1').trim();
    const isHeader = !seenContent && /^[A-Za-z_ ]+$/.test(first);
    seenContent = true;
    if (/^\d{19,20}$/.test(first)) iccids.push(first);
    else if (!isHeader) bad.push(`line ${i + 1}: ${JSON.stringify(first.slice(0, 40))}`);
  });
  if (bad.length) {
    const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
    throw new UsageError(`${file} has entries that are not ICCIDs (19-20 digits): ${bad.slice(0, 5).join('; ')}${more}`);
  }
  if (iccids.length === 0) throw new UsageError(`${file} lists no ICCIDs`);
  return iccids;
}

function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option('--iccids-file <file>', "select the SIMs listed in a file, one ICCID per line ('-' reads standard input)")
    .option('--state-filter <states>', `select SIMs in these states, comma-separated (${SIM_STATES.join(', ')})`, collectOneOf(SIM_STATES))
    .option('--group <group>', 'select SIMs of this group (id or name)')
    .option('--label <label>', 'select SIMs carrying this label (repeatable or comma-separated; all must match)', collect)
    .option('--account <id>', 'select SIMs of this account')
    .option('--batch <batch>', 'select SIMs of this batch')
    .option('--field <name=value>', 'select SIMs whose custom field has this value (repeatable)', keyValue)
    .option('--all-sims', 'select every SIM the API key can see')
    .option('--dry-run', 'check every SIM and report what would happen, change nothing')
    .option('--reason <text>', 'why; kept in every change record')
    .option('--idempotency-key <key>', 'a key that makes a repeated command return the first job instead of starting another')
    .option('--no-wait', 'print the job id and return at once instead of waiting');
}

async function selectionOf(ctx: Context<SelectionOptions>): Promise<Selection> {
  const o = ctx.opts;
  const filter: Record<string, unknown> = {};
  if (o.stateFilter?.length) filter.state = o.stateFilter;
  if (o.account) filter.accountId = o.account;
  if (o.batch) filter.batch = o.batch;
  if (o.label?.length) filter.label = o.label;
  if (o.field && Object.keys(o.field).length) filter.customFields = o.field;
  const hasFilter = Object.keys(filter).length > 0 || o.group !== undefined;
  const ways = [o.iccidsFile !== undefined, hasFilter, o.allSims === true].filter(Boolean).length;
  if (ways === 0) {
    throw new UsageError(
      'choose the SIMs: --iccids-file FILE, or a filter (--state-filter, --group, --label, --account, --batch, --field), or --all-sims',
    );
  }
  if (ways > 1) throw new UsageError('choose the SIMs one way: --iccids-file, filter options or --all-sims, not several');
  if (o.iccidsFile !== undefined) return { iccids: parseIccidList(await readInput(o.iccidsFile), o.iccidsFile) };
  if (o.group !== undefined) filter.groupId = await resolveGroupId(ctx.client, o.group, o.account);
  return { filter };
}

async function startBulk(ctx: Context<CommonOptions>, change: Record<string, unknown>): Promise<number> {
  const o = ctx.opts;
  const selection = await selectionOf(ctx);
  const res = await ctx.client.send<JobDto>('POST', '/bulk-jobs', {
    json: { selection, change, reason: o.reason, dryRun: o.dryRun === true },
    headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
  });
  let job = res.data;
  if (res.headers.get('idempotent-replayed') === 'true') {
    ctx.out.note(`idempotency key ${o.idempotencyKey} was used before: this is the job it started then`);
    job = await ctx.client.get<JobDto>(`/jobs/${encodeURIComponent(job.id)}`);
  }
  return followJob(ctx, job);
}

interface UpdateOptions extends CommonOptions {
  setGroup?: string;
  clearGroup?: boolean;
  addLabel?: string[];
  removeLabel?: string[];
  setField?: Record<string, string>;
  removeField?: string[];
  setPlan?: string;
  clearPlan?: boolean;
}

export function registerBulkCommands(program: Command): void {
  const bulk = program
    .command('bulk')
    .description('change many SIMs at once (大批异动) as a job: state, group, labels, custom fields')
    .addHelpText('after', '\nSelect SIMs with --iccids-file, with filter options, or with --all-sims. Exit code: 0 all changed, 3 some SIMs failed, 1 error.');

  addSelectionOptions(
    apiCommand(bulk, 'state', 'change the lifecycle state of many SIMs')
      .addArgument(new Argument('<state>', 'target state').choices(SIM_STATES))
      .addOption(new Option('--suspend-reason <reason>', 'why, when the target is suspended (default user)').choices(SUSPEND_REASONS))
      .option('--period-days <days>', 'length of a test or silent period, or of deactivation before retirement', integer(1, 3650)),
  )
    .addHelpText('after', '\nExamples:\n  meridian bulk state suspended --iccids-file lost.txt --reason "reported lost"\n  meridian bulk state active --state-filter test --group fleet-a --dry-run')
    .action(
      run<CommonOptions & { suspendReason?: string; periodDays?: number }>(async (ctx) =>
        startBulk(ctx, { state: { state: ctx.arg(0), suspendReason: ctx.opts.suspendReason, periodDays: ctx.opts.periodDays } }),
      ),
    );

  addSelectionOptions(
    apiCommand(bulk, 'update', 'change the group, labels, custom fields or rate plan of many SIMs')
      .option('--set-group <group>', 'move the SIMs to this group (id or name)')
      .option('--clear-group', 'take the SIMs out of their group')
      .option('--add-label <label>', 'add a label (repeatable or comma-separated)', collect)
      .option('--remove-label <label>', 'remove a label (repeatable or comma-separated)', collect)
      .option('--set-field <name=value>', 'set a custom field (repeatable)', keyValue)
      .option('--remove-field <name>', 'remove a custom field (repeatable)', repeat)
      .option('--set-plan <plan>', 'put the SIMs on this rate plan (operator and reseller admins)')
      .option('--clear-plan', 'take the SIMs off their rate plan'),
  )
    .addHelpText('after', '\nExample:\n  meridian bulk update --label pilot --add-label production --remove-label pilot --set-field site=SZ-02')
    .action(
      run<UpdateOptions>(async (ctx) => {
        const o = ctx.opts;
        const update: Record<string, unknown> = {};
        if (o.setGroup !== undefined && o.clearGroup) throw new UsageError('--set-group and --clear-group exclude each other');
        if (o.clearGroup) update.groupId = null;
        if (o.setGroup !== undefined) update.groupId = await resolveGroupId(ctx.client, o.setGroup, o.account);
        if (o.addLabel?.length) update.addLabels = o.addLabel;
        if (o.removeLabel?.length) update.removeLabels = o.removeLabel;
        const fields: Record<string, string | null> = { ...o.setField };
        for (const name of o.removeField ?? []) fields[name] = null;
        if (Object.keys(fields).length) update.customFields = fields;
        if (o.setPlan !== undefined && o.clearPlan) throw new UsageError('--set-plan and --clear-plan exclude each other');
        if (o.clearPlan) update.planId = null;
        if (o.setPlan !== undefined) update.planId = o.setPlan;
        if (Object.keys(update).length === 0) {
          throw new UsageError('nothing to change; give --set-group, --clear-group, --add-label, --remove-label, --set-field, --remove-field, --set-plan or --clear-plan');
        }
        return startBulk(ctx, { update });
      }),
    );

  apiCommand(bulk, 'show', 'show a bulk job with its progress and failed SIMs (same as jobs show)')
    .argument('<job>', 'job id')
    .option('--wait', 'wait for the job to finish first (exit code 3 when SIMs failed, 1 when the job failed)')
    .action(run<{ wait?: boolean }>(async (ctx) => showJob(ctx, ctx.arg(0))));
}

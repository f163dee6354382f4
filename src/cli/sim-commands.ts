/** `meridian sims …`: SIM inventory and lifecycle through the REST API. */
import { Argument, type Command, Option } from 'commander';
import { CHANGE_STATUSES } from '../modules/changes/change-record.ts';
import { CHANGE_SOURCES, SIM_STATES, SUSPEND_REASONS } from '../modules/sims/sim.ts';
import type { ApiClient, Query } from './api-client.ts';
import {
  addPaging,
  apiCommand,
  CliError,
  collect,
  collectOneOf,
  type Context,
  EXIT,
  fetchList,
  integer,
  keyValue,
  type PagingOptions,
  printList,
  readInput,
  repeat,
  run,
  UsageError,
} from './command-kit.ts';
import { followJob, type JobDto } from './job-report.ts';
import { type Column, list, renderFields, renderTable, time } from './output.ts';

export interface SimDto {
  iccid: string;
  accountId: string;
  groupId: string | null;
  state: string;
  suspendReason: string | null;
  imsi: string | null;
  profiles: { imsi: string; active: boolean }[];
  msisdn: string | null;
  eid: string | null;
  imei: string | null;
  batch: string | null;
  labels: string[];
  customFields: Record<string, string>;
  deviceName: string | null;
  stateDueAt: string | null;
  activatedAt: string | null;
  stateChangedAt: string;
  createdAt: string;
  updatedAt: string;
  connectionState?: string | null;
  lastSeenAt?: string | null;
  usageTodayBytes?: number;
  usageCycleBytes?: number;
  planId?: string | null;
}

/** Bytes for people: 1536 -> "1.5 KiB". */
export function humanBytes(bytes: number | undefined): string | null {
  if (bytes === undefined) return null;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

interface GroupDto {
  id: string;
  accountId: string;
  name: string;
}

interface ChangeDto {
  id: number;
  iccid: string;
  field: string;
  oldValue: string | null;
  newValue: string | null;
  source: string;
  actor: string | null;
  reason: string | null;
  status: string;
  error: string | null;
  jobId: string | null;
  createdAt: string;
}

interface LookupDto {
  value: string;
  found: boolean;
  iccid: string | null;
  imsis: string[];
  activeImsi: string | null;
  msisdn: string | null;
  imei: string | null;
}

const LOOKUP_KINDS = ['iccid', 'imsi', 'msisdn', 'imei'] as const;
export const SIM_SORT_HELP = 'iccid (default), createdAt, updatedAt or stateChangedAt';

/** A group given as its id (`grp_…`) or its name; names are looked up among the visible groups (of `accountId`). */
export async function resolveGroupId(client: ApiClient, value: string, accountId?: string): Promise<string> {
  if (value.startsWith('grp_')) return value;
  const matches = await client.all<GroupDto>('/groups', { accountId, name: value });
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    throw new CliError(`no group named ${JSON.stringify(value)} is visible${accountId ? ` in account ${accountId}` : ''}; see meridian groups list`, 'group_not_found');
  }
  throw new CliError(
    `${matches.length} groups are named ${JSON.stringify(value)} (accounts ${matches.map((g) => g.accountId).join(', ')}); pass the group id or --account`,
    'ambiguous_group',
  );
}

/** Group names by id for display; an empty map when groups cannot be listed. */
async function groupNames(client: ApiClient, sims: readonly SimDto[]): Promise<Map<string, string>> {
  if (!sims.some((s) => s.groupId)) return new Map();
  const groups = await client.all<GroupDto>('/groups').catch(() => [] as GroupDto[]);
  return new Map(groups.map((g) => [g.id, g.name]));
}

const stateText = (s: Pick<SimDto, 'state' | 'suspendReason'>): string => (s.suspendReason ? `${s.state} (${s.suspendReason})` : s.state);

function simColumns(groups: Map<string, string>): Column<SimDto>[] {
  return [
    { header: 'ICCID', value: (s) => s.iccid },
    { header: 'STATE', value: stateText },
    { header: 'IMSI', value: (s) => s.imsi },
    { header: 'MSISDN', value: (s) => s.msisdn },
    { header: 'IMEI', value: (s) => s.imei },
    { header: 'CONN', value: (s) => s.connectionState ?? null },
    { header: 'TODAY', value: (s) => humanBytes(s.usageTodayBytes) },
    { header: 'CYCLE', value: (s) => humanBytes(s.usageCycleBytes) },
    { header: 'PLAN', value: (s) => s.planId ?? null },
    { header: 'ACCOUNT', value: (s) => s.accountId },
    { header: 'GROUP', value: (s) => (s.groupId ? (groups.get(s.groupId) ?? s.groupId) : null) },
    { header: 'BATCH', value: (s) => s.batch },
    { header: 'LABELS', value: (s) => s.labels.join(',') },
    { header: 'DEVICE', value: (s) => s.deviceName },
  ];
}

export function simFields(s: SimDto, groupName?: string): string {
  return renderFields([
    ['ICCID', s.iccid],
    ['State', stateText(s)],
    ['State due at', time(s.stateDueAt)],
    ['Account', s.accountId],
    ['Group', s.groupId ? (groupName ? `${groupName} (${s.groupId})` : s.groupId) : null],
    ['Active IMSI', s.imsi],
    ['IMSI profiles', list(s.profiles.map((p) => (p.active ? `${p.imsi} (active)` : p.imsi)))],
    ['MSISDN', s.msisdn],
    ['EID', s.eid],
    ['IMEI', s.imei],
    ['Batch', s.batch],
    ['Labels', list(s.labels)],
    ['Custom fields', list(Object.entries(s.customFields).map(([k, v]) => `${k}=${v}`))],
    ['Device name', s.deviceName],
    ['Plan', s.planId ?? null],
    ['Activated at', time(s.activatedAt)],
    ['State changed at', time(s.stateChangedAt)],
    ['Created at', time(s.createdAt)],
    ['Updated at', time(s.updatedAt)],
  ]);
}

async function printSim(ctx: Context<object>, sim: SimDto): Promise<void> {
  if (ctx.opts.json) return ctx.out.json(sim);
  let name: string | undefined;
  if (sim.groupId) name = await ctx.client.get<GroupDto>(`/groups/${encodeURIComponent(sim.groupId)}`).then((g) => g.name, () => undefined);
  ctx.out.print(simFields(sim, name));
}

const simPath = (iccid: string, rest = ''): string => `/sims/${encodeURIComponent(iccid)}${rest}`;

/** `cf.<name>` query parameters of a custom-field filter. */
export const customFieldQuery = (fields: Record<string, string> | undefined): Query =>
  Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [`cf.${k}`, v]));

interface ListOptions extends PagingOptions {
  state?: string[];
  group?: string;
  account?: string;
  batch?: string;
  label?: string[];
  q?: string;
  plan?: string;
  field?: Record<string, string>;
  sort?: string;
  order?: string;
}

interface UpdateOptions {
  group?: string | false;
  addLabel?: string[];
  removeLabel?: string[];
  deviceName?: string;
  field?: Record<string, string>;
  removeField?: string[];
  imei?: string;
  reason?: string;
}

export function registerSimCommands(program: Command): void {
  const sims = program.command('sims').description('SIM inventory: import, list, show, change state and attributes');

  apiCommand(sims, 'import', 'import SIMs from a CSV file as a job and wait for it (failed rows are listed)')
    .argument('<file>', "CSV file with a header row (iccid,imsi,…); '-' reads standard input")
    .option('--dry-run', 'check every row and report what would happen, write nothing')
    .option('--account <id>', "account that receives the SIMs (default: the API key's account)")
    .option('--no-wait', 'print the job id and return at once instead of waiting')
    .addHelpText(
      'after',
      '\nColumns: iccid, imsi (required; several IMSIs separated by | or ;), active_imsi, msisdn, eid, batch,\n' +
        'group (name of a group of the account), labels (separated by | or ;), device_name.\n' +
        'Exit code: 0 every row imported, 3 some rows failed (they are listed), 1 error.',
    )
    .action(
      run<{ dryRun?: boolean; account?: string; wait?: boolean }>(async (ctx) => {
        const file = ctx.arg(0);
        const csv = await readInput(file);
        if (!csv.trim()) throw new UsageError(`${file} is empty; the first line must name the columns (iccid,imsi,…)`);
        const job = await ctx.client.post<JobDto>('/sims/imports', undefined, {
          text: csv,
          contentType: 'text/csv',
          query: { dryRun: ctx.opts.dryRun ? 'true' : undefined, accountId: ctx.opts.account },
        });
        return followJob(ctx, job);
      }),
    );

  addPaging(
    apiCommand(sims, 'list', 'list and search SIMs')
      .option('--state <states>', `only these states, comma-separated (${SIM_STATES.join(', ')})`, collectOneOf(SIM_STATES))
      .option('--group <group>', 'only SIMs of this group (id or name)')
      .option('--account <id>', 'only SIMs of this account')
      .option('--batch <batch>', 'only SIMs of this batch')
      .option('--label <label>', 'only SIMs carrying this label (repeatable or comma-separated; all must match)', collect)
      .option('--q <value>', 'search: equal to the ICCID, any IMSI, the MSISDN or the IMEI')
      .option('--plan <id>', 'only SIMs on this rate plan')
      .option('--field <name=value>', 'only SIMs whose custom field has this value (repeatable)', keyValue)
      .option('--sort <field>', `sort by ${SIM_SORT_HELP}`)
      .addOption(new Option('--order <order>', 'sort order').choices(['asc', 'desc'])),
    50,
  ).action(
    run<ListOptions>(async (ctx) => {
      const o = ctx.opts;
      const groupId = o.group ? await resolveGroupId(ctx.client, o.group, o.account) : undefined;
      const query: Query = {
        state: o.state,
        groupId,
        accountId: o.account,
        batch: o.batch,
        label: o.label,
        q: o.q,
        planId: o.plan,
        sort: o.sort,
        order: o.order,
        ...customFieldQuery(o.field),
      };
      const page = await fetchList<SimDto>(ctx, '/sims', query, 50);
      printList(ctx, page, simColumns(ctx.opts.json ? new Map<string, string>() : await groupNames(ctx.client, page.items)), 'SIMs');
    }),
  );

  apiCommand(sims, 'show', 'show one SIM')
    .argument('<iccid>', 'ICCID of the SIM')
    .action(run(async (ctx) => printSim(ctx, await ctx.client.get<SimDto>(simPath(ctx.arg(0))))));

  apiCommand(sims, 'set-state', 'change the lifecycle state of a SIM (provisioned on the network first)')
    .argument('<iccid>', 'ICCID of the SIM')
    .addArgument(new Argument('<state>', 'target state').choices(SIM_STATES))
    .option('--reason <text>', 'why; kept in the change record')
    .addOption(new Option('--suspend-reason <reason>', 'why, when the target is suspended (default user)').choices(SUSPEND_REASONS))
    .option('--period-days <days>', 'length of a test or silent period, or of deactivation before retirement', integer(1, 3650))
    .action(
      run<{ reason?: string; suspendReason?: string; periodDays?: number }>(async (ctx) => {
        const o = ctx.opts;
        const res = await ctx.client.post<{ sim: SimDto; changeRecordId: number | null }>(simPath(ctx.arg(0), '/state'), {
          state: ctx.arg(1),
          reason: o.reason,
          suspendReason: o.suspendReason,
          periodDays: o.periodDays,
        });
        if (o.json) return ctx.out.json(res);
        const due = res.sim.stateDueAt ? `; automatic change due ${time(res.sim.stateDueAt)}` : '';
        const record = res.changeRecordId !== null ? ` (change record ${res.changeRecordId})` : '';
        ctx.out.print(`SIM ${res.sim.iccid} is now ${stateText(res.sim)}${due}${record}\n`);
      }),
    );

  apiCommand(sims, 'update', 'change the group, labels, custom fields, device name or IMEI of a SIM')
    .argument('<iccid>', 'ICCID of the SIM')
    .option('--group <group>', 'move the SIM to this group (id or name of a group of its account)')
    .option('--no-group', 'take the SIM out of its group')
    .option('--add-label <label>', 'add a label (repeatable or comma-separated)', collect)
    .option('--remove-label <label>', 'remove a label (repeatable or comma-separated)', collect)
    .option('--device-name <name>', "set the device name ('' clears it)")
    .option('--field <name=value>', 'set a custom field (repeatable)', keyValue)
    .option('--remove-field <name>', 'remove a custom field (repeatable)', repeat)
    .option('--imei <imei>', "bind the SIM to this IMEI, 15 digits ('' clears it)")
    .option('--reason <text>', 'why; kept in the change records')
    .action(
      run<UpdateOptions>(async (ctx) => {
        const o = ctx.opts;
        const iccid = ctx.arg(0);
        const body: Record<string, unknown> = {};
        if (o.group === false) body.groupId = null;
        else if (o.group !== undefined) {
          const accountId = o.group.startsWith('grp_') ? undefined : (await ctx.client.get<SimDto>(simPath(iccid))).accountId;
          body.groupId = await resolveGroupId(ctx.client, o.group, accountId);
        }
        if (o.addLabel?.length) body.addLabels = o.addLabel;
        if (o.removeLabel?.length) body.removeLabels = o.removeLabel;
        if (o.deviceName !== undefined) body.deviceName = o.deviceName === '' ? null : o.deviceName;
        if (o.imei !== undefined) body.imei = o.imei === '' ? null : o.imei;
        const fields: Record<string, string | null> = { ...o.field };
        for (const name of o.removeField ?? []) fields[name] = null;
        if (Object.keys(fields).length) body.customFields = fields;
        if (Object.keys(body).length === 0) {
          throw new UsageError('nothing to change; give --group, --no-group, --add-label, --remove-label, --device-name, --field, --remove-field or --imei');
        }
        if (o.reason) body.reason = o.reason;
        await printSim(ctx, await ctx.client.patch<SimDto>(simPath(iccid), body));
      }),
    );

  addPaging(
    apiCommand(sims, 'changes', 'change records (异动记录) of a SIM, newest first')
      .argument('<iccid>', 'ICCID of the SIM')
      .option('--field <field>', 'only changes of this field (state, groupId, labels, …)')
      .addOption(new Option('--status <status>', 'only changes with this status').choices(CHANGE_STATUSES))
      .addOption(new Option('--source <source>', 'only changes from this source').choices(CHANGE_SOURCES)),
    100,
  ).action(
    run<PagingOptions & { field?: string; status?: string; source?: string }>(async (ctx) => {
      const { field, status, source } = ctx.opts;
      const page = await fetchList<ChangeDto>(ctx, simPath(ctx.arg(0), '/changes'), { field, status, source }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (c) => c.id, align: 'right' },
          { header: 'TIME', value: (c) => time(c.createdAt) },
          { header: 'FIELD', value: (c) => c.field },
          { header: 'OLD', value: (c) => c.oldValue },
          { header: 'NEW', value: (c) => c.newValue },
          { header: 'STATUS', value: (c) => c.status },
          { header: 'SOURCE', value: (c) => c.source },
          { header: 'ACTOR', value: (c) => c.actor },
          { header: 'REASON', value: (c) => (c.error ? `${c.reason ? `${c.reason}; ` : ''}error: ${c.error}` : c.reason) },
        ],
        'change records',
      );
    }),
  );

  apiCommand(sims, 'lookup', 'find the SIMs of a list of ICCIDs, IMSIs, MSISDNs or IMEIs')
    .addOption(new Option('--by <kind>', 'what the values are').choices(LOOKUP_KINDS).makeOptionMandatory())
    .argument('[values...]', 'the values to look up')
    .option('--file <file>', "read the values from a file, one per line ('-' reads standard input)")
    .action(
      run<{ by: string; file?: string }>(async (ctx) => {
        const values = ctx.args(0);
        if (ctx.opts.file) values.push(...(await readInput(ctx.opts.file)).split(/\r?\n/).map((l) => l.trim()).filter(Boolean));
        if (values.length === 0) throw new UsageError('give the values to look up as arguments or with --file');
        if (values.length > 10_000) throw new UsageError(`at most 10000 values per lookup; got ${values.length}`);
        const res = await ctx.client.post<{ items: LookupDto[] }>('/sims/lookup', { by: ctx.opts.by, values });
        if (ctx.opts.json) return ctx.out.json(res);
        ctx.out.print(
          renderTable(res.items, [
            { header: 'VALUE', value: (r) => r.value },
            { header: 'FOUND', value: (r) => r.found },
            { header: 'ICCID', value: (r) => r.iccid },
            { header: 'ACTIVE IMSI', value: (r) => r.activeImsi },
            { header: 'MSISDN', value: (r) => r.msisdn },
            { header: 'IMEI', value: (r) => r.imei },
            { header: 'IMSIS', value: (r) => r.imsis.join(',') },
          ]),
        );
        const missing = res.items.filter((r) => !r.found).length;
        if (missing) ctx.out.note(`${missing} of ${res.items.length} not found`);
        return EXIT.ok;
      }),
    );
}

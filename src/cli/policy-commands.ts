/** `meridian comm-plans …`, `meridian policy …`, `meridian imei-blacklist …`, `meridian high-risk-areas …`: security policies through the REST API. */
import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import { addPaging, apiCommand, collect, type Context, fetchList, integer, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { dataSize } from './catalog-commands.ts';
import { list, renderFields, time } from './output.ts';

interface CommPlanDto {
  id: string;
  accountId: string;
  name: string;
  services: { data: boolean; voice: boolean; sms: boolean };
  apns: string[];
  destinations: string[];
  smsWhitelist: string[];
  imeiLock: { mode: string; maxDevices: number };
  region: { mode: string; countries: string[]; zones: string[]; operators: string[] };
  dailyDataLimitBytes: number | null;
  abnormalDailyBytes: number;
  updatedAt: string;
}

interface SimPolicyDto {
  iccid: string;
  source: string;
  commPlan: CommPlanDto | null;
  ownImeiLock: { mode: string; maxDevices: number } | null;
  imeiLock: { mode: string; maxDevices: number };
  boundImei: string | null;
  devices: { imei: string; firstSeenAt: string }[];
  boundCountry: string | null;
}

interface ListedDto {
  code: string;
  kind: string;
  reason: string | null;
  createdBy: string | null;
  createdAt: string;
}

interface ViolationDto {
  id: number;
  iccid: string;
  kind: string;
  message: string;
  occurredAt: string;
}

const planPath = (id: string): string => `/comm-plans/${encodeURIComponent(id)}`;
const simPath = (iccid: string, suffix: string): string => `/sims/${encodeURIComponent(iccid)}${suffix}`;

const lockText = (l: { mode: string; maxDevices: number }): string => (l.mode === 'tac' ? `tac (up to ${l.maxDevices} devices)` : l.mode);

const regionText = (r: CommPlanDto['region']): string =>
  r.mode === 'allowed' ? `allowed: ${[...r.countries, ...r.zones.map((z) => `${z} (zone)`), ...r.operators].join(', ')}` : r.mode;

function planFields(p: CommPlanDto): [string, string | number | undefined][] {
  const on = Object.entries(p.services)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return [
    ['ID', p.id],
    ['Account', p.accountId],
    ['Name', p.name],
    ['Services on', on.join(', ') || 'none'],
    ['APNs', list(p.apns) ?? 'any'],
    ['Destinations', list(p.destinations) ?? 'any (not directed)'],
    ['SMS whitelist', list(p.smsWhitelist) ?? 'none'],
    ['IMEI lock', lockText(p.imeiLock)],
    ['Region', regionText(p.region)],
    ['Daily data limit', p.dailyDataLimitBytes === null ? 'none' : `${p.dailyDataLimitBytes} bytes`],
    ['Abnormal above', `${p.abnormalDailyBytes} bytes/day`],
    ['Updated at', time(p.updatedAt)],
  ];
}

function printPlan(ctx: Context<object>, p: CommPlanDto): void {
  if (ctx.opts.json) ctx.out.json(p);
  else ctx.out.print(renderFields(planFields(p)));
}

function printSimPolicy(ctx: Context<object>, p: SimPolicyDto): void {
  if (ctx.opts.json) return ctx.out.json(p);
  ctx.out.print(
    renderFields([
      ['ICCID', p.iccid],
      ['Plan', p.commPlan ? `${p.commPlan.name} (${p.commPlan.id}, from the ${p.source})` : 'default (data only)'],
      ['IMEI lock', `${lockText(p.imeiLock)}${p.ownImeiLock ? ' (set on the SIM)' : ''}`],
      ['Bound IMEI', p.boundImei ?? 'none'],
      ['Devices', list(p.devices.map((d) => d.imei)) ?? 'none'],
      ['Bound country', p.boundCountry ?? 'none'],
    ]),
  );
}

const onOff = (value: string): boolean => {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError('must be on or off');
};

const sizeOrNone = (value: string): number | null => (value.toLowerCase() === 'none' ? null : dataSize(value));

interface PlanOptions {
  name?: string;
  account?: string;
  data?: boolean;
  voice?: boolean;
  sms?: boolean;
  apn?: string[];
  destination?: string[];
  smsTo?: string[];
  imeiLock?: string;
  maxDevices?: number;
  region?: string;
  country?: string[];
  zone?: string[];
  operator?: string[];
  dailyLimit?: number | null;
  abnormal?: number;
}

function addPlanOptions(cmd: Command): Command {
  return cmd
    .option('--data <on|off>', 'data service (default on)', onOff)
    .option('--voice <on|off>', 'voice service (default off)', onOff)
    .option('--sms <on|off>', 'SMS service (default off)', onOff)
    .option('--apn <apn>', 'an allowed APN (repeat; none: any APN)', collect)
    .option('--destination <cidr|host>', 'a whitelisted destination for directed access (repeat)', collect)
    .option('--sms-to <number>', 'a number SMS may go to (repeat)', collect)
    .addOption(new Option('--imei-lock <mode>', 'IMEI lock: off, first (bind the first device), tac (devices sharing its first 8 digits)').choices(['off', 'first', 'tac']))
    .option('--max-devices <n>', 'devices accepted under a tac lock (default 10)', integer(1, 1000))
    .addOption(new Option('--region <mode>', 'region restriction: off, allowed (the listed areas), first_activation').choices(['off', 'allowed', 'first_activation']))
    .option('--country <code>', 'an allowed country, ISO 3166 alpha-2 (repeat)', collect)
    .option('--zone <id>', 'an allowed zone of the rating catalogue (repeat)', collect)
    .option('--operator <mcc-mnc>', 'an allowed network (repeat)', collect)
    .option('--daily-limit <size|none>', 'data per local day, e.g. 50MB; reaching it blocks data until the next day', sizeOrNone)
    .option('--abnormal <size>', 'daily usage above which an abnormal-traffic alert is raised (default 150MB)', dataSize);
}

/** The API body of the plan options given (only what was given). */
function planBody(o: PlanOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.name !== undefined) body.name = o.name;
  const services = Object.fromEntries(Object.entries({ data: o.data, voice: o.voice, sms: o.sms }).filter(([, v]) => v !== undefined));
  if (Object.keys(services).length) body.services = services;
  if (o.apn) body.apns = o.apn;
  if (o.destination) body.destinations = o.destination;
  if (o.smsTo) body.smsWhitelist = o.smsTo;
  if (o.imeiLock !== undefined || o.maxDevices !== undefined) body.imeiLock = { ...(o.imeiLock ? { mode: o.imeiLock } : {}), ...(o.maxDevices ? { maxDevices: o.maxDevices } : {}) };
  if (o.region !== undefined || o.country || o.zone || o.operator) {
    body.region = { ...(o.region ? { mode: o.region } : {}), ...(o.country ? { countries: o.country } : {}), ...(o.zone ? { zones: o.zone } : {}), ...(o.operator ? { operators: o.operator } : {}) };
  }
  if (o.dailyLimit !== undefined) body.dailyDataLimitBytes = o.dailyLimit;
  if (o.abnormal !== undefined) body.abnormalDailyBytes = o.abnormal;
  return body;
}

export function registerPolicyCommands(program: Command): void {
  const plans = program.command('comm-plans').description('communication plans: services, APNs, directed access, IMEI lock, region, data limits');

  addPaging(apiCommand(plans, 'list', 'list communication plans').option('--account <id>', 'only plans of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      const page = await fetchList<CommPlanDto>(ctx, '/comm-plans', { accountId: ctx.opts.account }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (p) => p.id },
          { header: 'NAME', value: (p) => p.name },
          { header: 'IMEI LOCK', value: (p) => lockText(p.imeiLock) },
          { header: 'REGION', value: (p) => regionText(p.region) },
          { header: 'DIRECTED', value: (p) => (p.destinations.length ? 'yes' : 'no') },
        ],
        'communication plans',
      );
    }),
  );

  apiCommand(plans, 'show', 'show one communication plan')
    .argument('<id>', 'plan id (cp_…)')
    .action(run(async (ctx) => printPlan(ctx, await ctx.client.get<CommPlanDto>(planPath(ctx.arg(0))))));

  addPlanOptions(
    apiCommand(plans, 'create', 'create a communication plan (data on, voice and SMS off unless given)')
      .requiredOption('--name <name>', 'name of the plan, unique in its account')
      .option('--account <id>', 'owner account (default: yours)'),
  )
    .addHelpText('after', '\nExample:\n  meridian comm-plans create --name meters --imei-lock tac --max-devices 10 --region allowed --country CN --destination 10.8.0.0/16')
    .action(run<PlanOptions>(async (ctx) => printPlan(ctx, await ctx.client.post<CommPlanDto>('/comm-plans', { ...planBody(ctx.opts), accountId: ctx.opts.account }))));

  addPlanOptions(apiCommand(plans, 'update', 'change settings of a plan; lists given replace the old ones').argument('<id>', 'plan id (cp_…)').option('--name <name>', 'new name')).action(
    run<PlanOptions>(async (ctx) => {
      const body = planBody(ctx.opts);
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change; give at least one setting');
      printPlan(ctx, await ctx.client.patch<CommPlanDto>(planPath(ctx.arg(0)), body));
    }),
  );

  apiCommand(plans, 'delete', 'delete a plan no SIM or group uses')
    .argument('<id>', 'plan id (cp_…)')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(planPath(ctx.arg(0)));
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), deleted: true });
        else ctx.out.print(`communication plan ${ctx.arg(0)} deleted\n`);
      }),
    );

  apiCommand(plans, 'assign', 'assign a plan to a SIM (wins over its group) or a group; "none" removes it')
    .argument('<plan>', 'plan id (cp_…) or none')
    .option('--sim <iccid>', 'the SIM')
    .option('--group <id>', 'the group')
    .action(
      run<{ sim?: string; group?: string }>(async (ctx) => {
        const commPlanId = ctx.arg(0) === 'none' ? null : ctx.arg(0);
        if (!!ctx.opts.sim === !!ctx.opts.group) throw new UsageError('give exactly one of --sim or --group');
        if (ctx.opts.sim) return printSimPolicy(ctx, await ctx.client.put<SimPolicyDto>(simPath(ctx.opts.sim, '/comm-plan'), { commPlanId }));
        const r = await ctx.client.put<{ groupId: string; commPlanId: string | null }>(`/groups/${encodeURIComponent(ctx.opts.group!)}/comm-plan`, { commPlanId });
        if (ctx.opts.json) ctx.out.json(r);
        else ctx.out.print(`group ${r.groupId}: ${r.commPlanId ?? 'no communication plan'}\n`);
      }),
    );

  const policy = program.command('policy').description('the policies of one SIM: plan in force, IMEI lock and bindings');
  apiCommand(policy, 'show', 'show the policies in force for a SIM')
    .argument('<iccid>', 'ICCID')
    .action(run(async (ctx) => printSimPolicy(ctx, await ctx.client.get<SimPolicyDto>(simPath(ctx.arg(0), '/policy')))));
  apiCommand(policy, 'imei-lock', 'set the IMEI lock of one SIM (plan: follow its communication plan)')
    .argument('<iccid>', 'ICCID')
    .addArgument(new Argument('<mode>', 'off, first, tac, or plan (follow the communication plan)').choices(['off', 'first', 'tac', 'plan']))
    .option('--max-devices <n>', 'devices accepted under tac (default 10)', integer(1, 1000))
    .action(
      run<{ maxDevices?: number }>(async (ctx) => {
        const mode = ctx.arg(1);
        const imeiLock = mode === 'plan' ? null : { mode, maxDevices: ctx.opts.maxDevices ?? 10 };
        printSimPolicy(ctx, await ctx.client.put<SimPolicyDto>(simPath(ctx.arg(0), '/imei-lock'), { imeiLock }));
      }),
    );
  apiCommand(policy, 'imei-reset', 'rebind a SIM (机卡重绑): the next device seen is bound; lifts an imei_mismatch suspension')
    .argument('<iccid>', 'ICCID')
    .option('--reason <text>', 'why, recorded with the change')
    .action(run<{ reason?: string }>(async (ctx) => printSimPolicy(ctx, await ctx.client.post<SimPolicyDto>(simPath(ctx.arg(0), '/imei-reset'), { reason: ctx.opts.reason }))));
  addPaging(
    apiCommand(policy, 'violations', 'policy violations, newest first').option('--sim <iccid>', 'only of this SIM').option('--kind <kind>', 'only of this kind (imei_mismatch, out_of_region …)'),
    100,
  ).action(
    run<PagingOptions & { sim?: string; kind?: string }>(async (ctx) => {
      const page = await fetchList<ViolationDto>(ctx, '/policy-violations', { iccid: ctx.opts.sim, kind: ctx.opts.kind }, 100);
      printList(
        ctx,
        { items: page.items, nextCursor: page.nextCursor === null ? null : String(page.nextCursor) },
        [
          { header: 'TIME', value: (v) => time(v.occurredAt) },
          { header: 'ICCID', value: (v) => v.iccid },
          { header: 'KIND', value: (v) => v.kind },
          { header: 'MESSAGE', value: (v) => v.message },
        ],
        'violations',
      );
    }),
  );

  for (const [name, path, what, argName] of [
    ['imei-blacklist', '/imei-blacklist', 'IMEIs refused on every SIM (operator only)', '<imei>'],
    ['high-risk-areas', '/high-risk-areas', 'countries (ISO alpha-2) and networks (MCC-MNC) refused on every SIM (operator only)', '<code>'],
  ] as const) {
    const cmd = program.command(name).description(what);
    apiCommand(cmd, 'list', `list the ${name}`).action(
      run(async (ctx) => {
        const items = name === 'imei-blacklist' ? await ctx.client.all<ListedDto>(path) : (await ctx.client.get<{ items: ListedDto[] }>(path)).items;
        printList(
          ctx,
          { items, nextCursor: null },
          [
            { header: 'CODE', value: (e) => e.code },
            { header: 'KIND', value: (e) => e.kind },
            { header: 'REASON', value: (e) => e.reason ?? '' },
            { header: 'ADDED', value: (e) => time(e.createdAt) },
          ],
          name,
        );
      }),
    );
    apiCommand(cmd, 'add', `add to the ${name}`)
      .argument(argName, name === 'imei-blacklist' ? '15-digit IMEI' : 'country code such as KP, or MCC-MNC such as 41401')
      .option('--reason <text>', 'why')
      .action(
        run<{ reason?: string }>(async (ctx) => {
          await ctx.client.post(path, name === 'imei-blacklist' ? { imei: ctx.arg(0), reason: ctx.opts.reason } : { code: ctx.arg(0), reason: ctx.opts.reason });
          if (ctx.opts.json) ctx.out.json({ code: ctx.arg(0), added: true });
          else ctx.out.print(`${ctx.arg(0)} added to the ${name}\n`);
        }),
      );
    apiCommand(cmd, 'remove', `remove from the ${name}`)
      .argument(argName, 'the entry')
      .action(
        run(async (ctx) => {
          await ctx.client.delete(`${path}/${encodeURIComponent(ctx.arg(0))}`);
          if (ctx.opts.json) ctx.out.json({ code: ctx.arg(0), removed: true });
          else ctx.out.print(`${ctx.arg(0)} removed from the ${name}\n`);
        }),
      );
  }
}

/** `meridian zones …`, `meridian plans …` and `meridian catalog …`: the rating catalogue through the REST API. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { addPaging, apiCommand, CliError, collect, type Context, fetchList, integer, type PagingOptions, printList, readInput, run, UsageError } from './command-kit.ts';
import { list, plural, renderFields, time } from './output.ts';
import { humanBytes } from './sim-commands.ts';

interface ZoneDto {
  id: string;
  name: string;
  countries: string[];
  networks: string[];
}

interface PlanVersionDto {
  version: number;
  effectiveFrom: string;
  name: string;
  currency: string;
  monthlyFee: string;
  includedBytes: number;
  includedSms: number;
  smsPrice: string;
  coverageZoneIds: string[];
  overage: { pricePerMb: string; cap: string | null } | null;
  cutoffBytes: number | null;
  sharing: string;
  termMonths: number | null;
  testAllowanceBytes: number;
  ratingIncrementBytes: number;
  outOfCoverage: { kind: 'block' } | { kind: 'rate'; pricePerMb: string; zoneRates: { zoneId: string; pricePerMb: string }[] };
  notifyPercents: number[];
}

interface PlanDto {
  id: string;
  accountId: string;
  inForce: PlanVersionDto | null;
  versions: PlanVersionDto[];
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** A data size: bytes, or a number with KB, MB, GB or TB (1 MB = 1,048,576 bytes). */
export function dataSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?$/i.exec(value.trim());
  const bytes = m ? Number(m[1]) * UNITS[(m[2] ?? 'B').toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError('must be a whole number of bytes, or a size such as 100MB, 1.5GB or 512KB');
  return bytes;
}

const sizeOrNone = (value: string): number | null => (value.toLowerCase() === 'none' ? null : dataSize(value));

const MONEY = /^\d{1,9}(\.\d{1,6})?$/;
const money = (value: string): string => {
  if (!MONEY.test(value.trim())) throw new InvalidArgumentError('must be a decimal amount such as 19.15 (at most 6 decimal places)');
  return value.trim();
};
const moneyOrNone = (value: string): string | null => (value.toLowerCase() === 'none' ? null : money(value));

const zonePath = (id: string): string => `/zones/${encodeURIComponent(id)}`;
const planPath = (id: string, suffix = ''): string => `/plans/${encodeURIComponent(id)}${suffix}`;

function printZone(ctx: Context<object>, z: ZoneDto): void {
  if (ctx.opts.json) return ctx.out.json(z);
  ctx.out.print(renderFields([
    ['ID', z.id],
    ['Name', z.name],
    ['Countries', list(z.countries)],
    ['Networks', list(z.networks)],
  ]));
}

const bytesText = (n: number | null): string => (n === null ? 'none' : `${humanBytes(n)}`);

function overageText(v: PlanVersionDto): string {
  if (!v.overage) return 'none: suspended when the data is used up';
  return `${v.overage.pricePerMb} ${v.currency}/MB, ${v.overage.cap === null ? 'no cap' : `cap ${v.overage.cap} ${v.currency}`}`;
}

function roamingText(v: PlanVersionDto): string {
  const o = v.outOfCoverage;
  if (o.kind === 'block') return 'blocked';
  const zones = o.zoneRates.map((r) => `${r.zoneId} ${r.pricePerMb}`).join(', ');
  return `${o.pricePerMb} ${v.currency}/MB${zones ? ` (${zones})` : ''}`;
}

function printPlan(ctx: Context<object>, p: PlanDto): void {
  if (ctx.opts.json) return ctx.out.json(p);
  const v = p.inForce ?? p.versions[0];
  const fields: [string, string | number | undefined][] = [
    ['ID', p.id],
    ['Account', p.accountId],
  ];
  if (v) {
    fields.push(
      ['Name', v.name],
      ['In force', p.inForce ? `version ${p.inForce.version} since ${time(p.inForce.effectiveFrom)}` : 'not yet'],
      ['Monthly fee', `${v.monthlyFee} ${v.currency}`],
      ['Included data', bytesText(v.includedBytes)],
      ['Included SMS', v.includedSms],
      ['SMS price', `${v.smsPrice} ${v.currency}`],
      ['Coverage', list(v.coverageZoneIds)],
      ['Overage', overageText(v)],
      ['Cut-off', bytesText(v.cutoffBytes)],
      ['Sharing', v.sharing],
      ['Term', v.termMonths === null ? 'monthly' : plural(v.termMonths, 'month')],
      ['Test allowance', bytesText(v.testAllowanceBytes)],
      ['Rounding', `${v.ratingIncrementBytes} B per session`],
      ['Out of coverage', roamingText(v)],
      ['Notify at', v.notifyPercents.map((n) => `${n}%`).join(', ')],
    );
  }
  ctx.out.print(renderFields(fields));
  if (p.versions.length > 1 || (p.inForce && p.inForce.version !== p.versions.at(-1)?.version)) {
    ctx.out.print('\nVersions:\n');
    for (const x of p.versions) ctx.out.print(`  ${x.version}  from ${time(x.effectiveFrom)}  ${x.monthlyFee} ${x.currency}  ${bytesText(x.includedBytes)}  ${x.name}\n`);
  }
}

interface TermOptions {
  file?: string;
  name?: string;
  fee?: string;
  data?: number;
  zone?: string[];
  sms?: number;
  smsPrice?: string;
  overagePerMb?: string;
  overageCap?: string | null;
  noOverage?: boolean;
  cutoff?: number | null;
  sharing?: string;
  termMonths?: number;
  testAllowance?: number;
  effectiveFrom?: string;
}

/** Adds the options that set a plan's terms; each one overrides the same field of `--file`. */
function termOptions(cmd: Command): Command {
  return cmd
    .option('--file <file>', "JSON file with the plan's terms as the API takes them ('-' reads standard input); the options below override it")
    .option('--name <name>', 'name of the plan')
    .option('--fee <amount>', 'monthly fee in the major unit, e.g. 19.15', money)
    .option('--data <size>', 'data included per cycle, e.g. 100MB or 1GB', dataSize)
    .option('--zone <id>', 'coverage zone (repeatable or comma-separated)', collect)
    .option('--sms <n>', 'SMS included per cycle', integer(0, 1_000_000))
    .option('--sms-price <amount>', 'price of an SMS beyond the included ones', money)
    .option('--overage-per-mb <amount>', 'overage price per MB (without it: no overage, the SIM is suspended when its data is used up)', money)
    .option('--overage-cap <amount>', "most overage charged per SIM and cycle, or 'none'", moneyOrNone)
    .option('--no-overage', 'no overage: the SIM is suspended when its data is used up')
    .option('--cutoff <size>', "cut the SIM off at this much cycle usage, or 'none' (default: the table for the plan's size)", sizeOrNone)
    .addOption(new Option('--sharing <sharing>', 'each SIM its own data, or one pool per account').choices(['individual', 'pooled']))
    .option('--term-months <n>', 'prepaid term in months', integer(1, 120))
    .option('--test-allowance <size>', 'free data of the test period', dataSize)
    .option('--effective-from <time>', 'when the terms come into force, RFC 3339, e.g. 2026-02-01T00:00:00+08:00');
}

async function termsOf(o: TermOptions & { overage?: boolean }): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  if (o.file) {
    const text = await readInput(o.file);
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new CliError(`${o.file} is not JSON: ${(e as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CliError(`${o.file} must hold one JSON object with the plan's terms`);
  }
  const set = (key: string, value: unknown) => value !== undefined && (body[key] = value);
  set('name', o.name);
  set('monthlyFee', o.fee);
  set('includedBytes', o.data);
  set('coverageZoneIds', o.zone?.length ? o.zone : undefined);
  set('includedSms', o.sms);
  set('smsPrice', o.smsPrice);
  // Commander sets `overage` to false for --no-overage.
  if (o.overage === false) body.overage = null;
  else if (o.overagePerMb !== undefined) body.overage = { pricePerMb: o.overagePerMb, cap: o.overageCap ?? null };
  else if (o.overageCap !== undefined) throw new UsageError('--overage-cap needs --overage-per-mb');
  set('cutoffBytes', o.cutoff);
  set('sharing', o.sharing);
  set('termMonths', o.termMonths);
  set('testAllowanceBytes', o.testAllowance);
  if (o.effectiveFrom !== undefined) {
    if (Number.isNaN(Date.parse(o.effectiveFrom))) throw new UsageError(`--effective-from ${o.effectiveFrom} is not a time such as 2026-02-01T00:00:00+08:00`);
    body.effectiveFrom = new Date(o.effectiveFrom).toISOString();
  }
  return body;
}

export function registerCatalogCommands(program: Command): void {
  registerSimPlanCommand(program);
  const zones = program.command('zones').description('zones: the sets of countries and networks rate plans cover');

  addPaging(apiCommand(zones, 'list', 'list the zones'), 100).action(
    run<PagingOptions>(async (ctx) => {
      const page = await fetchList<ZoneDto>(ctx, '/zones', {}, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (z) => z.id },
          { header: 'NAME', value: (z) => z.name },
          { header: 'COUNTRIES', value: (z) => z.countries.length, align: 'right' },
          { header: 'NETWORKS', value: (z) => z.networks.length, align: 'right' },
        ],
        'zones',
      );
    }),
  );

  apiCommand(zones, 'show', 'show one zone')
    .argument('<id>', 'zone id, e.g. Z1')
    .action(run(async (ctx) => printZone(ctx, await ctx.client.get<ZoneDto>(zonePath(ctx.arg(0))))));

  apiCommand(zones, 'add', 'create a zone (operator admins)')
    .argument('<id>', "zone id: 1-32 letters, digits, '_', '.' or '-'")
    .requiredOption('--name <name>', 'name of the zone')
    .option('--country <code>', 'ISO 3166-1 alpha-2 country covered whole (repeatable or comma-separated)', collect)
    .option('--network <mccmnc>', 'single network covered, MCC+MNC such as 26201 (repeatable or comma-separated)', collect)
    .addHelpText('after', '\nExample:\n  meridian zones add EU --name Europe --country DE,FR,IT --network 23415')
    .action(
      run<{ name: string; country?: string[]; network?: string[] }>(async (ctx) => {
        const { name, country, network } = ctx.opts;
        printZone(ctx, await ctx.client.post<ZoneDto>('/zones', { id: ctx.arg(0), name, countries: country, networks: network }));
      }),
    );

  apiCommand(zones, 'update', 'change the name, countries or networks of a zone (operator admins)')
    .argument('<id>', 'zone id')
    .option('--name <name>', 'new name')
    .option('--country <code>', 'the countries covered whole, replacing the current list (repeatable or comma-separated)', collect)
    .option('--network <mccmnc>', 'the single networks covered, replacing the current list (repeatable or comma-separated)', collect)
    .option('--no-networks', 'cover no single network')
    .action(
      run<{ name?: string; country?: string[]; network?: string[]; networks?: boolean }>(async (ctx) => {
        const { name, country, network, networks } = ctx.opts;
        const body = { name, countries: country, networks: networks === false ? [] : network };
        if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to change; give --name, --country, --network or --no-networks');
        printZone(ctx, await ctx.client.patch<ZoneDto>(zonePath(ctx.arg(0)), body));
      }),
    );

  apiCommand(zones, 'remove', 'delete a zone no plan names (operator admins)')
    .argument('<id>', 'zone id')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(zonePath(ctx.arg(0)));
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), deleted: true });
        else ctx.out.print(`zone ${ctx.arg(0)} removed\n`);
      }),
    );

  const plans = program.command('plans').description('rate plans (套餐): fees, included data, overage, cut-off, versions');

  addPaging(
    apiCommand(plans, 'list', 'list the rate plans visible to you (yours, and those of the accounts above and below you)')
      .option('--account <id>', 'only plans owned by this account')
      .option('--zone <id>', 'only plans covering this zone'),
    100,
  ).action(
    run<PagingOptions & { account?: string; zone?: string }>(async (ctx) => {
      const page = await fetchList<PlanDto>(ctx, '/plans', { accountId: ctx.opts.account, zoneId: ctx.opts.zone }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (p) => p.id },
          { header: 'NAME', value: (p) => (p.inForce ?? p.versions[0])?.name },
          { header: 'FEE', value: (p) => { const v = p.inForce ?? p.versions[0]; return v && `${v.monthlyFee} ${v.currency}`; }, align: 'right' },
          { header: 'DATA', value: (p) => humanBytes((p.inForce ?? p.versions[0])?.includedBytes), align: 'right' },
          { header: 'ZONES', value: (p) => list((p.inForce ?? p.versions[0])?.coverageZoneIds) },
          { header: 'VERSION', value: (p) => (p.inForce ? p.inForce.version : 'not yet'), align: 'right' },
          { header: 'ACCOUNT', value: (p) => p.accountId },
        ],
        'plans',
      );
    }),
  );

  apiCommand(plans, 'show', 'show a rate plan: the version in force now and its versions')
    .argument('<id>', 'plan id')
    .action(run(async (ctx) => printPlan(ctx, await ctx.client.get<PlanDto>(planPath(ctx.arg(0))))));

  termOptions(apiCommand(plans, 'create', 'create a rate plan in your account (operator and reseller admins)').argument('<id>', "plan id: 1-64 letters, digits, '_', '.' or '-'"))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  meridian plans create EU-100MB --name "Europe 100 MB" --fee 19.15 --data 100MB --zone EU\n' +
        '  meridian plans create EU-1GB-POOL --file eu-pool.json --sharing pooled\n' +
        '\nMoney is a decimal in the major unit of the currency (CNY unless the file says otherwise).',
    )
    .action(
      run<TermOptions & { overage?: boolean }>(async (ctx) => {
        const body: Record<string, unknown> = { ...(await termsOf(ctx.opts)), id: ctx.arg(0) };
        for (const [key, option] of [['name', '--name'], ['monthlyFee', '--fee'], ['includedBytes', '--data'], ['coverageZoneIds', '--zone']] as const) {
          if (body[key] === undefined) throw new UsageError(`${option} is required (or ${key} in --file)`);
        }
        printPlan(ctx, await ctx.client.post<PlanDto>('/plans', body));
      }),
    );

  termOptions(apiCommand(plans, 'change', 'change a rate plan from a date on: a new version (only the owner account)').argument('<id>', 'plan id'))
    .addHelpText('after', '\nExample:\n  meridian plans change EU-100MB --effective-from 2026-02-01T00:00:00+08:00 --fee 17.50\n\nTerms not given keep the values of the latest version.')
    .action(
      run<TermOptions & { overage?: boolean }>(async (ctx) => {
        const body = await termsOf(ctx.opts);
        if (body.effectiveFrom === undefined) throw new UsageError('--effective-from is required: a change applies from a date on');
        if (Object.keys(body).length === 1) throw new UsageError('nothing to change; give the new terms as options or with --file');
        const plan = await ctx.client.post<PlanDto>(planPath(ctx.arg(0), '/versions'), body);
        if (ctx.opts.json) return ctx.out.json(plan);
        const v = plan.versions.at(-1)!;
        ctx.out.print(`plan ${plan.id}: version ${v.version} in force from ${time(v.effectiveFrom)}\n`);
      }),
    );

  const catalog = program.command('catalog').description('the rating catalogue as a whole');
  apiCommand(catalog, 'load-sample', 'load the sample catalogue: 7 zones and one plan per zone and tier of the CNY price list (operator admins)')
    .addHelpText('after', '\nLoading it again changes nothing: zones and plans whose id exists are kept as they are.')
    .action(
      run(async (ctx) => {
        const r = await ctx.client.post<{ zonesCreated: number; zonesKept: number; plansCreated: number; plansKept: number; topUpProductsCreated: number; topUpProductsKept: number }>('/catalog/sample', {});
        if (ctx.opts.json) return ctx.out.json(r);
        ctx.out.print(`zones: ${r.zonesCreated} created, ${r.zonesKept} already there; plans: ${r.plansCreated} created, ${r.plansKept} already there; top-up products: ${r.topUpProductsCreated} created, ${r.topUpProductsKept} already there\n`);
      }),
    );
}

/** `meridian sims set-plan ICCID PLAN`, added to the `sims` command group. */
function registerSimPlanCommand(program: Command): void {
  const sims = program.commands.find((c) => c.name() === 'sims') ?? program.command('sims');
  apiCommand(sims, 'set-plan', 'put a SIM on a rate plan, or take it off with --none (operator and reseller admins)')
    .argument('<iccid>', 'ICCID of the SIM')
    .argument('[plan]', 'plan id')
    .option('--none', 'take the SIM off its plan')
    .option('--reason <text>', 'why; kept in the change record')
    .action(
      run<{ none?: boolean; reason?: string }>(async (ctx) => {
        const plan = ctx.cmd.processedArgs[1] as string | undefined;
        if ((plan === undefined) === !ctx.opts.none) throw new UsageError('give a plan id, or --none to take the SIM off its plan');
        const sim = await ctx.client.put<{ iccid: string; planId: string | null }>(`/sims/${encodeURIComponent(ctx.arg(0))}/plan`, {
          planId: plan ?? null,
          reason: ctx.opts.reason,
        });
        if (ctx.opts.json) return ctx.out.json(sim);
        ctx.out.print(sim.planId ? `SIM ${sim.iccid} is on plan ${sim.planId}\n` : `SIM ${sim.iccid} has no plan\n`);
      }),
    );
}

/** `meridian alerts …` and `meridian events …`: alerts (告警) and the event log through the REST API. */
import type { Command } from 'commander';
import { addPaging, apiCommand, collect, collectOneOf, type Context, fetchList, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { renderFields, time } from './output.ts';

interface AlertDto {
  id: string;
  accountId: string;
  type: string;
  severity: string;
  subject: { kind: string; id: string };
  message: string;
  data: Record<string, unknown>;
  raisedAt: string;
  state: string;
  handledBy: string | null;
  handledAt: string | null;
  remark: string | null;
}

interface EventDto {
  id: string;
  sequence: number;
  type: string;
  accountId: string;
  subject: { kind: string; id: string };
  data: Record<string, unknown>;
  occurredAt: string;
}

interface FilterOptions {
  type?: string[];
  severity?: string[];
  subject?: string;
  account?: string;
  from?: string;
  to?: string;
  search?: string;
}

/** `--subject sim:8986…` as kind and id. */
function subjectOf(raw: string | undefined): { subjectKind?: string; subjectId?: string } {
  if (raw === undefined) return {};
  const at = raw.indexOf(':');
  if (at <= 0) throw new UsageError(`--subject must be kind:id, e.g. sim:89860012345678901234, not ${JSON.stringify(raw)}`);
  return { subjectKind: raw.slice(0, at), subjectId: raw.slice(at + 1) };
}

const filterOptions = (cmd: Command): Command =>
  cmd
    .option('--type <types>', 'alert types, comma-separated or repeated', collect)
    .option('--severity <levels>', 'info, warning, critical', collectOneOf(['info', 'warning', 'critical']))
    .option('--subject <kind:id>', 'what the alert is about, e.g. sim:89860012345678901234')
    .option('--account <id>', 'only alerts of this account')
    .option('--from <time>', 'raised at or after this time (RFC 3339)')
    .option('--to <time>', 'raised before this time (RFC 3339)')
    .option('--search <words>', 'words that must all appear in the message, type, subject or remark');

function printAlert(ctx: Context<object>, a: AlertDto): void {
  if (ctx.opts.json) return ctx.out.json(a);
  ctx.out.print(
    renderFields([
      ['ID', a.id],
      ['Account', a.accountId],
      ['Type', a.type],
      ['Severity', a.severity],
      ['Subject', `${a.subject.kind}:${a.subject.id}`],
      ['Message', a.message],
      ['Raised at', time(a.raisedAt)],
      ['State', a.state],
      ['Handled by', a.handledBy],
      ['Handled at', a.handledAt ? time(a.handledAt) : null],
      ['Remark', a.remark],
      ['Data', JSON.stringify(a.data)],
    ]),
  );
}

export function registerAlertCommands(program: Command): void {
  const alerts = program.command('alerts').description('alerts (告警) raised for your accounts: list, search, handle');

  addPaging(
    filterOptions(apiCommand(alerts, 'list', 'list alerts, newest first (default: unhandled ones)'))
      .option('--state <state>', 'unhandled, handled or all', 'unhandled'),
    100,
  ).action(
    run<PagingOptions & FilterOptions & { state: string }>(async (ctx) => {
      const o = ctx.opts;
      if (!['unhandled', 'handled', 'all'].includes(o.state)) throw new UsageError('--state must be unhandled, handled or all');
      const query = {
        type: o.type,
        severity: o.severity,
        ...subjectOf(o.subject),
        accountId: o.account,
        from: o.from,
        to: o.to,
        q: o.search,
        state: o.state === 'all' ? undefined : o.state,
      };
      const page = await fetchList<AlertDto>(ctx, '/alerts', query, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (a) => a.id },
          { header: 'RAISED', value: (a) => time(a.raisedAt) },
          { header: 'SEVERITY', value: (a) => a.severity },
          { header: 'TYPE', value: (a) => a.type },
          { header: 'SUBJECT', value: (a) => `${a.subject.kind}:${a.subject.id}` },
          { header: 'STATE', value: (a) => a.state },
          { header: 'MESSAGE', value: (a) => a.message },
        ],
        'alerts',
      );
    }),
  );

  apiCommand(alerts, 'show', 'show one alert')
    .argument('<id>', 'alert id (alr_…)')
    .action(run(async (ctx) => printAlert(ctx, await ctx.client.get<AlertDto>(`/alerts/${encodeURIComponent(ctx.arg(0))}`))));

  filterOptions(apiCommand(alerts, 'handle', 'mark alerts handled: the ids given, or every unhandled alert matching --all-matching filters'))
    .argument('[ids...]', 'alert ids (alr_…)')
    .option('--remark <text>', 'what was done about it')
    .option('--all-matching', 'handle every unhandled alert matching the filter options instead of listed ids')
    .addHelpText('after', '\nExamples:\n  meridian alerts handle alr_01… --remark "replaced the device"\n  meridian alerts handle --all-matching --type webhook_endpoint_paused --remark "receiver fixed"')
    .action(
      run<FilterOptions & { remark?: string; allMatching?: boolean }>(async (ctx) => {
        const ids = ctx.args(0);
        const o = ctx.opts;
        const remark = o.remark ?? null;
        if (Boolean(o.allMatching) === ids.length > 0) throw new UsageError('give alert ids, or --all-matching with filter options, not both');
        if (ids.length === 1) {
          const alert = await ctx.client.post<AlertDto>(`/alerts/${encodeURIComponent(ids[0]!)}/handle`, { remark });
          if (ctx.opts.json) return ctx.out.json(alert);
          ctx.out.print(`alert ${alert.id} handled\n`);
          return;
        }
        const { subjectKind, subjectId } = subjectOf(o.subject);
        const body = ids.length
          ? { ids, remark }
          : { filter: { type: o.type, severity: o.severity, subjectKind, subjectId, accountId: o.account, from: o.from, to: o.to, q: o.search }, remark };
        const result = await ctx.client.post<{ handled: number; more: boolean }>('/alerts/handle', body);
        if (ctx.opts.json) return ctx.out.json(result);
        ctx.out.print(`${result.handled} alerts handled\n`);
        if (result.more) ctx.out.note('more alerts match: repeat the command');
      }),
    );

  const events = program.command('events').description('the event log: what happened to SIMs, alerts and webhooks');
  addPaging(
    apiCommand(events, 'list', 'list events, newest first')
      .option('--type <types>', 'event types or patterns such as sim.*, comma-separated or repeated', collect)
      .option('--subject <kind:id>', 'e.g. sim:89860012345678901234')
      .option('--account <id>', 'only events of this account')
      .option('--from <time>', 'occurred at or after this time (RFC 3339)')
      .option('--to <time>', 'occurred before this time (RFC 3339)')
      .option('--oldest-first', 'oldest first'),
    100,
  ).action(
    run<PagingOptions & { type?: string[]; subject?: string; account?: string; from?: string; to?: string; oldestFirst?: boolean }>(async (ctx) => {
      const o = ctx.opts;
      const query = { type: o.type, ...subjectOf(o.subject), accountId: o.account, from: o.from, to: o.to, order: o.oldestFirst ? 'asc' : 'desc' };
      const page = await fetchList<EventDto>(ctx, '/events', query, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (e) => e.id },
          { header: 'OCCURRED', value: (e) => time(e.occurredAt) },
          { header: 'TYPE', value: (e) => e.type },
          { header: 'SUBJECT', value: (e) => `${e.subject.kind}:${e.subject.id}` },
          { header: 'DATA', value: (e) => JSON.stringify(e.data) },
        ],
        'events',
      );
    }),
  );
}

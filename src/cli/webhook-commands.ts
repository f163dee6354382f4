/** `meridian webhooks …`: webhook endpoints, their delivery log and replays through the REST API. */
import type { Command } from 'commander';
import { addPaging, apiCommand, collect, collectOneOf, type Context, fetchList, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { renderFields, time } from './output.ts';

interface EndpointDto {
  id: string;
  accountId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  state: string;
  pausedReason: string | null;
  pausedAt: string | null;
  consecutiveFailures: number;
  failingSince: string | null;
  secretHint: string;
  secret?: string;
  createdAt: string;
  updatedAt: string;
}

interface DeliveryDto {
  id: string;
  eventId: string;
  eventType: string;
  replay: boolean;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  log?: { attempt: number; startedAt: string; durationMs: number; statusCode: number | null; error: string | null; ok: boolean }[];
}

const path = (id: string): string => `/webhooks/${encodeURIComponent(id)}`;

function printEndpoint(ctx: Context<object>, e: EndpointDto): void {
  if (ctx.opts.json) return ctx.out.json(e);
  ctx.out.print(
    renderFields([
      ['ID', e.id],
      ['Account', e.accountId],
      ['URL', e.url],
      ['Description', e.description],
      ['Event types', e.eventTypes.join(', ')],
      ['State', e.state],
      ['Paused', e.pausedReason ? `${time(e.pausedAt)}: ${e.pausedReason}` : null],
      ['Failures in a row', e.consecutiveFailures],
      ['Failing since', time(e.failingSince)],
      ['Secret', e.secret ?? e.secretHint],
      ['Created at', time(e.createdAt)],
      ['Updated at', time(e.updatedAt)],
    ]),
  );
  if (e.secret) ctx.out.note('keep the secret now: it is not shown again (meridian webhooks rotate-secret gives a new one)');
}

export function registerWebhookCommands(program: Command): void {
  const webhooks = program.command('webhooks').description('webhook endpoints that receive events as signed POST requests');

  addPaging(apiCommand(webhooks, 'list', 'list webhook endpoints').option('--account <id>', 'only endpoints of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      const page = await fetchList<EndpointDto>(ctx, '/webhooks', { accountId: ctx.opts.account }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (e) => e.id },
          { header: 'STATE', value: (e) => e.state },
          { header: 'URL', value: (e) => e.url },
          { header: 'EVENT TYPES', value: (e) => e.eventTypes.join(',') },
          { header: 'FAILURES', value: (e) => e.consecutiveFailures, align: 'right' },
          { header: 'ACCOUNT', value: (e) => e.accountId },
        ],
        'webhook endpoints',
      );
    }),
  );

  apiCommand(webhooks, 'show', 'show one endpoint (the secret is not shown)')
    .argument('<id>', 'endpoint id (whk_…)')
    .action(run(async (ctx) => printEndpoint(ctx, await ctx.client.get<EndpointDto>(path(ctx.arg(0))))));

  apiCommand(webhooks, 'add', 'register an endpoint; prints its signing secret once')
    .argument('<url>', 'http:// or https:// URL that takes POST requests')
    .option('--event <types>', 'event types or patterns such as sim.* (default: every type), comma-separated or repeated', collect)
    .option('--description <text>', 'what the endpoint is for')
    .option('--account <id>', "the endpoint's account (default: the API key's)")
    .addHelpText('after', '\nExample:\n  meridian webhooks add https://erp.example.com/meridian --event sim.state_changed,alert.*')
    .action(
      run<{ event?: string[]; description?: string; account?: string }>(async (ctx) => {
        const { event, description, account } = ctx.opts;
        printEndpoint(ctx, await ctx.client.post<EndpointDto>('/webhooks', { url: ctx.arg(0), eventTypes: event, description, accountId: account }));
      }),
    );

  apiCommand(webhooks, 'update', 'change the URL, event types or description of an endpoint, or pause or resume it')
    .argument('<id>', 'endpoint id (whk_…)')
    .option('--endpoint-url <url>', 'new URL of the endpoint')
    .option('--event <types>', 'new event types (replaces the old ones)', collect)
    .option('--description <text>', 'new description')
    .option('--pause', 'stop sending to it')
    .option('--resume', 'send to it again (pending deliveries go out; replay what it missed)')
    .action(
      run<{ endpointUrl?: string; event?: string[]; description?: string; pause?: boolean; resume?: boolean }>(async (ctx) => {
        const { endpointUrl: url, event, description, pause, resume } = ctx.opts;
        if (pause && resume) throw new UsageError('give --pause or --resume, not both');
        const state = pause ? 'paused' : resume ? 'enabled' : undefined;
        if ([url, event, description, state].every((v) => v === undefined)) throw new UsageError('nothing to change; give --endpoint-url, --event, --description, --pause or --resume');
        printEndpoint(ctx, await ctx.client.patch<EndpointDto>(path(ctx.arg(0)), { url, eventTypes: event, description, state }));
      }),
    );

  apiCommand(webhooks, 'rotate-secret', 'give an endpoint a new signing secret, printed once; the old one stops at once')
    .argument('<id>', 'endpoint id (whk_…)')
    .action(run(async (ctx) => printEndpoint(ctx, await ctx.client.post<EndpointDto>(`${path(ctx.arg(0))}/secret`))));

  apiCommand(webhooks, 'remove', 'remove an endpoint and its delivery log')
    .argument('<id>', 'endpoint id (whk_…)')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(path(ctx.arg(0)));
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), deleted: true });
        else ctx.out.print(`webhook endpoint ${ctx.arg(0)} removed\n`);
      }),
    );

  addPaging(
    apiCommand(webhooks, 'deliveries', "an endpoint's deliveries, newest first; with --delivery, one delivery with every attempt")
      .argument('<id>', 'endpoint id (whk_…)')
      .option('--state <states>', 'pending, delivered, failed', collectOneOf(['pending', 'delivered', 'failed']))
      .option('--event-id <id>', 'only deliveries of this event')
      .option('--delivery <id>', 'show this delivery and its attempts'),
    100,
  ).action(
    run<PagingOptions & { state?: string[]; eventId?: string; delivery?: string }>(async (ctx) => {
      if (ctx.opts.delivery) {
        const d = await ctx.client.get<DeliveryDto>(`${path(ctx.arg(0))}/deliveries/${encodeURIComponent(ctx.opts.delivery)}`);
        if (ctx.opts.json) return ctx.out.json(d);
        ctx.out.print(renderFields([['ID', d.id], ['Event', `${d.eventId} (${d.eventType})`], ['State', d.state], ['Attempts', d.attempts], ['Next attempt', time(d.nextAttemptAt)], ['Replay', d.replay]]));
        printList(
          ctx,
          { items: d.log ?? [], nextCursor: null },
          [
            { header: 'ATTEMPT', value: (a) => a.attempt, align: 'right' },
            { header: 'STARTED', value: (a) => time(a.startedAt) },
            { header: 'MS', value: (a) => a.durationMs, align: 'right' },
            { header: 'STATUS', value: (a) => a.statusCode },
            { header: 'ERROR', value: (a) => a.error },
          ],
          'attempts',
        );
        return;
      }
      const page = await fetchList<DeliveryDto>(ctx, `${path(ctx.arg(0))}/deliveries`, { state: ctx.opts.state, eventId: ctx.opts.eventId }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (d) => d.id },
          { header: 'CREATED', value: (d) => time(d.createdAt) },
          { header: 'EVENT', value: (d) => d.eventId },
          { header: 'TYPE', value: (d) => d.eventType },
          { header: 'STATE', value: (d) => d.state },
          { header: 'ATTEMPTS', value: (d) => d.attempts, align: 'right' },
          { header: 'LAST', value: (d) => d.lastStatusCode ?? d.lastError },
        ],
        'deliveries',
      );
    }),
  );

  apiCommand(webhooks, 'replay', 'send events again to an endpoint: one event, or every matching event since a time')
    .argument('<id>', 'endpoint id (whk_…)')
    .option('--event-id <id>', 'the event to send again')
    .option('--since <time>', 'every matching event at or after this time (RFC 3339)')
    .option('--until <time>', 'with --since: events before this time')
    .action(
      run<{ eventId?: string; since?: string; until?: string }>(async (ctx) => {
        const { eventId, since, until } = ctx.opts;
        if ((eventId === undefined) === (since === undefined)) throw new UsageError('give --event-id or --since');
        const body = eventId ? { eventId } : { from: since, to: until };
        const result = await ctx.client.post<{ deliveries: number }>(`${path(ctx.arg(0))}/replay`, body);
        if (ctx.opts.json) return ctx.out.json(result);
        ctx.out.print(`${result.deliveries} deliveries queued\n`);
      }),
    );
}

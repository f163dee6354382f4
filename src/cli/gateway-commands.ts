/** `meridian gateways …`: network gateways (RADIUS clients) through the REST API. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { addPaging, apiCommand, type Context, fetchList, integer, type PagingOptions, printList, run, UsageError } from './command-kit.ts';
import { renderFields, time } from './output.ts';

interface GatewayDto {
  id: string;
  accountId: string;
  name: string;
  address: string;
  secretMasked: string;
  coaPort: number;
  destinationClassAttribute?: string | null;
  createdAt: string;
  updatedAt: string;
}

const gatewayPath = (id: string): string => `/gateways/${encodeURIComponent(id)}`;

const fields = (g: GatewayDto): [string, string | number | undefined][] => [
  ['ID', g.id],
  ['Account', g.accountId],
  ['Name', g.name],
  ['Address', g.address],
  ['Secret', g.secretMasked],
  ['CoA port', g.coaPort],
  ['Destination class', g.destinationClassAttribute ?? '-'],
  ['Created at', time(g.createdAt)],
  ['Updated at', time(g.updatedAt)],
];

function printGateway(ctx: Context<object>, g: GatewayDto): void {
  if (ctx.opts.json) ctx.out.json(g);
  else ctx.out.print(renderFields(fields(g)));
}

/** The first line of standard input. */
async function readLineFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

/** The secret from `--secret` or, with `--secret-stdin`, from the first line of standard input (kept out of the process list). */
async function secretOf(opts: { secret?: string; secretStdin?: boolean }): Promise<string | undefined> {
  if (opts.secret !== undefined && opts.secretStdin) throw new UsageError('give the secret with --secret or --secret-stdin, not both');
  return opts.secretStdin ? readLineFromStdin() : opts.secret;
}

export function registerGatewayCommands(program: Command): void {
  const gateways = program.command('gateways').description('network gateways (RADIUS clients, NAS) that send accounting to Meridian');

  addPaging(apiCommand(gateways, 'list', 'list the gateways').option('--account <id>', 'only gateways of this account'), 100).action(
    run<PagingOptions & { account?: string }>(async (ctx) => {
      const page = await fetchList<GatewayDto>(ctx, '/gateways', { accountId: ctx.opts.account }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (g) => g.id },
          { header: 'NAME', value: (g) => g.name },
          { header: 'ADDRESS', value: (g) => g.address },
          { header: 'COA PORT', value: (g) => g.coaPort, align: 'right' },
          { header: 'SECRET', value: (g) => g.secretMasked },
          { header: 'UPDATED', value: (g) => time(g.updatedAt) },
        ],
        'gateways',
      );
    }),
  );

  apiCommand(gateways, 'show', 'show one gateway (the secret is masked)')
    .argument('<id>', 'gateway id (gw_…)')
    .action(run(async (ctx) => printGateway(ctx, await ctx.client.get<GatewayDto>(gatewayPath(ctx.arg(0))))));

  apiCommand(gateways, 'add', 'register a gateway (operator admins)')
    .requiredOption('--name <name>', 'name of the gateway, e.g. "PGW Shenzhen 1"')
    .requiredOption('--address <address>', 'IP address or CIDR block its packets come from, e.g. 10.1.2.3 or 10.1.0.0/16')
    .option('--secret <secret>', 'RADIUS shared secret, 8-128 characters')
    .option('--secret-stdin', 'read the shared secret from the first line of standard input instead')
    .option('--coa-port <port>', 'UDP port of its Disconnect/CoA server (default 3799)', integer(1, 65535))
    .option('--destination-class-attribute <attr>', 'attribute it reports the destination class in, for split billing: attr:N or vsa:VENDOR:TYPE')
    .addHelpText('after', '\nExample:\n  meridian gateways add --name pgw-sz-1 --address 10.1.0.0/16 --secret-stdin < pgw-secret.txt')
    .action(
      run<{ name: string; address: string; secret?: string; secretStdin?: boolean; coaPort?: number; destinationClassAttribute?: string }>(async (ctx) => {
        const secret = await secretOf(ctx.opts);
        if (secret === undefined) throw new UsageError('the shared secret is required: give --secret or --secret-stdin');
        const { name, address, coaPort, destinationClassAttribute } = ctx.opts;
        printGateway(ctx, await ctx.client.post<GatewayDto>('/gateways', { name, address, secret, coaPort, destinationClassAttribute }));
      }),
    );

  apiCommand(gateways, 'update', 'change the name, address, shared secret or CoA port of a gateway')
    .argument('<id>', 'gateway id (gw_…)')
    .option('--name <name>', 'new name')
    .option('--address <address>', 'new IP address or CIDR block')
    .option('--secret <secret>', 'new shared secret')
    .option('--secret-stdin', 'read the new shared secret from the first line of standard input')
    .option('--coa-port <port>', 'new CoA port', integer(1, 65535))
    .option('--destination-class-attribute <attr>', 'attribute it reports the destination class in (attr:N, vsa:VENDOR:TYPE), or none')
    .action(
      run<{ name?: string; address?: string; secret?: string; secretStdin?: boolean; coaPort?: number; destinationClassAttribute?: string }>(async (ctx) => {
        const { name, address, coaPort } = ctx.opts;
        const destinationClassAttribute = ctx.opts.destinationClassAttribute === 'none' ? null : ctx.opts.destinationClassAttribute;
        const secret = await secretOf(ctx.opts);
        if ([name, address, secret, coaPort, destinationClassAttribute].every((v) => v === undefined)) {
          throw new UsageError('nothing to change; give --name, --address, --secret, --coa-port or --destination-class-attribute');
        }
        printGateway(ctx, await ctx.client.patch<GatewayDto>(gatewayPath(ctx.arg(0)), { name, address, secret, coaPort, destinationClassAttribute }));
      }),
    );

  apiCommand(gateways, 'remove', 'remove a gateway; its packets are no longer accepted')
    .argument('<id>', 'gateway id (gw_…)')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(gatewayPath(ctx.arg(0)));
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), deleted: true });
        else ctx.out.print(`gateway ${ctx.arg(0)} removed\n`);
      }),
    );
}

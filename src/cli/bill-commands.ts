/** `meridian bills …`: bill runs, bills, their reconciliation and documents through the REST API. */
import { writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { addPaging, apiCommand, CliError, type Context, fetchList, type PagingOptions, printList, run } from './command-kit.ts';
import { renderFields, renderTable, time } from './output.ts';
import { humanBytes } from './sim-commands.ts';

interface LineDto {
  lineNo: number;
  kind: string;
  planId: string | null;
  zoneId: string | null;
  quantity: number;
  bytes: number;
  productId?: string | null;
  paidByOrder?: string | null;
  amountExact: string;
  amount: string;
}

interface BillDto {
  id?: string;
  accountId: string;
  kind: string;
  period: string;
  currency: string;
  total: string;
  totalExact: string;
  usageRecords: number;
  revision?: number;
  issuedAt?: string;
  lines?: LineDto[];
}

interface Figures {
  records: number;
  bytes: number;
  amountExact: string;
}

interface ReconciliationDto {
  billId: string;
  currency: string;
  balanced: boolean;
  totalMatches: boolean;
  billed: Figures;
  recorded: Figures;
  differences: { kind: string; planId: string | null; zoneId: string | null; billed: Figures; recorded: Figures }[];
}

const period = (value: string): string => {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError('must be a calendar month YYYY-MM, e.g. 2026-11');
  return value;
};

const billPath = (id: string, suffix = ''): string => `/bills/${encodeURIComponent(id)}${suffix}`;

function printBill(ctx: Context<object>, b: BillDto): void {
  if (ctx.opts.json) return ctx.out.json(b);
  ctx.out.print(
    renderFields([
      ['ID', b.id ?? '(preview, not stored)'],
      ['Account', b.accountId],
      ['Month', b.period],
      ['Revision', b.revision],
      ['Issued', time(b.issuedAt)],
      ['Total', `${b.total} ${b.currency} (exact ${b.totalExact})`],
      ['Usage records', b.usageRecords],
    ]),
  );
  if (b.lines?.length) {
    ctx.out.print('\n');
    ctx.out.print(
      renderTable(b.lines, [
        { header: '#', value: (l) => l.lineNo, align: 'right' },
        { header: 'KIND', value: (l) => l.kind },
        { header: 'PLAN', value: (l) => l.planId ?? l.productId ?? null },
        { header: 'ZONE', value: (l) => l.zoneId },
        { header: 'QTY', value: (l) => l.quantity, align: 'right' },
        { header: 'DATA', value: (l) => (l.kind.endsWith('fee') || l.kind === 'sms' ? '' : humanBytes(l.bytes)), align: 'right' },
        { header: `AMOUNT ${b.currency}`, value: (l) => l.amount, align: 'right' },
        { header: 'NOTE', value: (l) => (l.paidByOrder ? `paid by order ${l.paidByOrder}` : l.kind === 'sms' ? 'messages' : '') },
      ]),
    );
  }
}

export function registerBillCommands(program: Command): void {
  const bills = program.command('bills').description('monthly bills (账单): runs, lines, reconciliation, CSV/XLSX/PDF documents');

  apiCommand(bills, 'run', 'bill a closed month for an account and every account under it (operator and reseller admins)')
    .argument('<month>', 'billing month YYYY-MM', period)
    .option('--account <id>', "bill this account and those under it (default: the key's account)")
    .option('--rerun', 'replace bills of the month that exist (next revision) instead of keeping them')
    .action(
      run<{ account?: string; rerun?: boolean }>(async (ctx) => {
        const r = await ctx.client.post<{ created: number; replaced: number; kept: number; usageRecords: number; totals: Record<string, string>; durationMs: number }>('/bills/runs', {
          period: ctx.arg(0),
          accountId: ctx.opts.account,
          rerun: ctx.opts.rerun,
        });
        if (ctx.opts.json) return ctx.out.json(r);
        const totals = Object.entries(r.totals).map(([c, t]) => `${t} ${c}`).join(', ') || 'nothing';
        ctx.out.print(`${ctx.arg(0)}: ${r.created} created, ${r.replaced} replaced, ${r.kept} kept; ${r.usageRecords} usage records; billed ${totals} in ${r.durationMs} ms\n`);
      }),
    );

  addPaging(apiCommand(bills, 'list', 'list bills of your account and the accounts under it'), 100)
    .option('--month <month>', 'billing month YYYY-MM', period)
    .option('--account <id>', 'bills of one account')
    .action(
      run<PagingOptions & { month?: string; account?: string }>(async (ctx) => {
        const page = await fetchList<BillDto>(ctx, '/bills', { period: ctx.opts.month, accountId: ctx.opts.account }, 100);
        printList(
          ctx,
          page,
          [
            { header: 'ID', value: (b) => b.id },
            { header: 'ACCOUNT', value: (b) => b.accountId },
            { header: 'MONTH', value: (b) => b.period },
            { header: 'REV', value: (b) => b.revision, align: 'right' },
            { header: 'TOTAL', value: (b) => `${b.total} ${b.currency}`, align: 'right' },
            { header: 'RECORDS', value: (b) => b.usageRecords, align: 'right' },
          ],
          'bills',
        );
      }),
    );

  apiCommand(bills, 'show', 'show a bill with its lines')
    .argument('<id>', 'bill id')
    .action(run(async (ctx) => printBill(ctx, await ctx.client.get<BillDto>(billPath(ctx.arg(0))))));

  apiCommand(bills, 'preview', "what an account's bill for a month (also the current one) comes to now; nothing is stored")
    .argument('<month>', 'billing month YYYY-MM', period)
    .option('--account <id>', "the account (default: the key's account)")
    .action(
      run<{ account?: string }>(async (ctx) => {
        const { items } = await ctx.client.get<{ items: BillDto[] }>('/bills/preview', { period: ctx.arg(0), accountId: ctx.opts.account });
        if (ctx.opts.json) return ctx.out.json({ items });
        if (items.length === 0) ctx.out.note('nothing to bill');
        items.forEach((b, i) => {
          if (i) ctx.out.print('\n');
          printBill(ctx, b);
        });
      }),
    );

  apiCommand(bills, 'reconcile', 'prove a bill against the usage records (exit code 1 when they differ)')
    .argument('<id>', 'bill id')
    .action(
      run(async (ctx) => {
        const r = await ctx.client.get<ReconciliationDto>(billPath(ctx.arg(0), '/reconciliation'));
        if (ctx.opts.json) ctx.out.json(r);
        else {
          const fig = (f: Figures) => `${f.records} records, ${humanBytes(f.bytes)}, ${f.amountExact} ${r.currency}`;
          ctx.out.print(renderFields([['Bill', r.billId], ['Billed', fig(r.billed)], ['Recorded', fig(r.recorded)], ['Result', r.balanced && r.totalMatches ? 'balanced' : 'DIFFERENT']]));
          for (const d of r.differences) ctx.out.print(`  ${d.kind} ${d.planId ?? '-'} ${d.zoneId ?? '-'}: billed ${fig(d.billed)}; recorded ${fig(d.recorded)}\n`);
        }
        return r.balanced && r.totalMatches ? 0 : 1;
      }),
    );

  apiCommand(bills, 'export', 'write a bill as CSV, XLSX or PDF')
    .argument('<id>', 'bill id')
    .addOption(new Option('--format <format>', 'document format').choices(['csv', 'xlsx', 'pdf']).default('csv'))
    .addOption(new Option('--lang <lang>', 'language of the document').choices(['en', 'zh']).default('en'))
    .option('--out <file>', "file to write ('-' for standard output; default <id>-<month>.<format>)")
    .action(
      run<{ format: string; lang: string; out?: string }>(async (ctx) => {
        const res = await ctx.client.send<Buffer>('GET', billPath(ctx.arg(0), '/export'), { query: { format: ctx.opts.format, lang: ctx.opts.lang }, binary: true });
        const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `${ctx.arg(0)}.${ctx.opts.format}`;
        const out = ctx.opts.out ?? name;
        if (out === '-') {
          process.stdout.write(res.data);
          return;
        }
        try {
          await writeFile(out, res.data);
        } catch (e) {
          throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
        }
        ctx.out.note(`wrote ${out} (${res.data.length} bytes)`);
      }),
    );
}

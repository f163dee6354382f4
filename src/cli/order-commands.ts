/**
 * `meridian renew`, `meridian cart …`, `meridian orders …`, `meridian top-up-products …`, `meridian invoices …` and
 * `meridian sims term`: renewals (续费), top-up purchases (加油包), orders and invoices (发票) through the REST API.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { addPaging, apiCommand, collectOneOf, type Context, fetchList, integer, type PagingOptions, printList, run } from './command-kit.ts';
import { dataSize } from './catalog-commands.ts';
import { renderFields, time } from './output.ts';
import { humanBytes } from './sim-commands.ts';

interface LineDto {
  lineNo?: number;
  kind: string;
  iccid: string | null;
  amount: string;
  description: string;
  status?: string;
  result?: string | null;
}

interface OrderDto {
  id: string;
  accountId: string;
  status: string;
  currency: string;
  total: string;
  amount: string;
  invoiceId: string | null;
  createdAt: string;
  paidAt: string | null;
  lines: LineDto[];
  history: { from: string | null; to: string; actor: string | null; note: string | null; at: string }[];
  payment: { reference: string; amount: string; recordedBy: string | null; paidAt: string } | null;
}

interface CartDto {
  items: { id: string; lines: LineDto[]; problem: { code: string; message: string } | null }[];
  total: string | null;
  currency: string | null;
}

interface ProductDto {
  id: string;
  accountId: string;
  name: string;
  bytes: number;
  validMonths: number;
  price: string;
  currency: string;
  active: boolean;
}

interface InvoiceDto {
  id: string;
  accountId: string;
  status: string;
  type: string;
  title: string;
  taxId: string;
  orderIds: string[];
  amount: string;
  currency: string;
  number: string | null;
  issuedOn: string | null;
  rejectReason: string | null;
  requestedAt: string;
}

const ORDER_STATUSES = ['pending_payment', 'paid', 'fulfilled', 'cancelled', 'failed'];
const INVOICE_STATUSES = ['requested', 'issued', 'rejected'];
const MONEY = /^\d{1,9}(\.\d{1,6})?$/;
const money = (value: string): string => {
  if (!MONEY.test(value.trim())) throw new InvalidArgumentError('must be a decimal amount such as 459.60');
  return value.trim();
};
const orderPath = (id: string, suffix = ''): string => `/orders/${encodeURIComponent(id)}${suffix}`;

function printOrder(ctx: Context<object>, o: OrderDto): void {
  if (ctx.opts.json) return ctx.out.json(o);
  ctx.out.print(
    renderFields([
      ['ID', o.id],
      ['Account', o.accountId],
      ['Status', o.status],
      ['Total', `${o.amount} ${o.currency}`],
      ['Created', time(o.createdAt)],
      ['Paid', o.payment ? `${time(o.payment.paidAt)} (reference ${o.payment.reference}, recorded by ${o.payment.recordedBy ?? '-'})` : undefined],
      ['Invoice', o.invoiceId ?? undefined],
    ]),
  );
  ctx.out.print('\nLines:\n');
  for (const l of o.lines) ctx.out.print(`  ${l.lineNo}. ${l.amount} ${o.currency}  ${l.description}${l.status ? `  [${l.status}${l.result ? `: ${l.result}` : ''}]` : ''}\n`);
  ctx.out.print('\nHistory:\n');
  for (const h of o.history) ctx.out.print(`  ${time(h.at)}  ${h.from ?? '-'} → ${h.to}  by ${h.actor ?? '-'}${h.note ? `  (${h.note})` : ''}\n`);
}

function printCart(ctx: Context<object>, c: CartDto): void {
  if (ctx.opts.json) return ctx.out.json(c);
  if (c.items.length === 0) return ctx.out.note('the cart is empty');
  for (const item of c.items) {
    if (item.problem) ctx.out.print(`${item.id}  cannot be ordered now: ${item.problem.code}: ${item.problem.message}\n`);
    for (const l of item.lines) ctx.out.print(`${item.id}  ${l.amount} ${c.currency ?? ''}  ${l.description}\n`);
  }
  ctx.out.print(`total: ${c.total ?? '0'} ${c.currency ?? ''}\n`);
}

function printInvoice(ctx: Context<object>, i: InvoiceDto): void {
  if (ctx.opts.json) return ctx.out.json(i);
  ctx.out.print(
    renderFields([
      ['ID', i.id],
      ['Status', i.status],
      ['Type', i.type === 'ordinary' ? 'ordinary (电子普通发票)' : 'special VAT (增值税专用发票)'],
      ['Title', i.title],
      ['Tax id', i.taxId],
      ['Amount', `${i.amount} ${i.currency}`],
      ['Orders', i.orderIds.join(', ')],
      ['Number', i.number ?? undefined],
      ['Issued on', i.issuedOn ?? undefined],
      ['Rejected', i.rejectReason ?? undefined],
      ['Requested', time(i.requestedAt)],
    ]),
  );
}

/** Places an order directly, or adds the item to the cart with `--cart`. */
async function orderOrCart(ctx: Context<{ cart?: boolean }>, item: Record<string, unknown>): Promise<void> {
  if (ctx.opts.cart) {
    const added = await ctx.client.post<{ id: string; lines: LineDto[] }>('/cart/items', item);
    if (ctx.opts.json) return ctx.out.json(added);
    for (const l of added.lines) ctx.out.print(`added to the cart (${added.id}): ${l.amount}  ${l.description}\n`);
    return;
  }
  printOrder(ctx, await ctx.client.post<OrderDto>('/orders', { items: [item] }));
}

export function registerOrderCommands(program: Command): void {
  apiCommand(program, 'renew', 'renew prepaid SIMs (续费) for some months on their plans: an order awaiting payment, or a cart item with --cart')
    .argument('<iccid...>', 'ICCIDs of the SIMs')
    .requiredOption('--months <n>', 'months added to each term (1-60)', integer(1, 60))
    .option('--cart', 'add to the cart instead of ordering at once')
    .addHelpText('after', '\nRenewal is possible until the 22nd of the month after expiry and continues from the old expiry.\nExample:\n  meridian renew 89860012345678901234 --months 12')
    .action(run<{ months: number; cart?: boolean }>(async (ctx) => orderOrCart(ctx, { kind: 'renewal', iccids: ctx.args(0), months: ctx.opts.months })));

  apiCommand(program, 'buy-top-up', 'buy a top-up product (加油包) for a SIM: an order awaiting payment, or a cart item with --cart')
    .argument('<iccid>', 'ICCID of the SIM')
    .argument('<product>', 'top-up product id (meridian top-up-products list)')
    .option('--quantity <n>', 'packs (default 1)', integer(1, 100_000))
    .option('--cart', 'add to the cart instead of ordering at once')
    .action(run<{ quantity?: number; cart?: boolean }>(async (ctx) => orderOrCart(ctx, { kind: 'top_up', iccid: ctx.arg(0), productId: ctx.arg(1), quantity: ctx.opts.quantity ?? 1 })));

  const cart = program.command('cart').description("your account's cart: items priced now, checked out into one order");
  apiCommand(cart, 'show', 'show the cart with current prices').action(run(async (ctx) => printCart(ctx, await ctx.client.get<CartDto>('/cart'))));
  apiCommand(cart, 'remove', 'remove an item from the cart')
    .argument('<id>', 'cart item id')
    .action(
      run(async (ctx) => {
        await ctx.client.delete(`/cart/items/${encodeURIComponent(ctx.arg(0))}`);
        if (ctx.opts.json) ctx.out.json({ id: ctx.arg(0), removed: true });
        else ctx.out.print(`removed ${ctx.arg(0)}\n`);
      }),
    );
  apiCommand(cart, 'clear', 'empty the cart').action(
    run(async (ctx) => {
      await ctx.client.delete('/cart');
      if (ctx.opts.json) ctx.out.json({ cleared: true });
      else ctx.out.print('the cart is empty\n');
    }),
  );
  apiCommand(cart, 'checkout', 'turn the cart into one order awaiting payment (合并付款)').action(run(async (ctx) => printOrder(ctx, await ctx.client.post<OrderDto>('/cart/checkout', {}))));

  const orders = program.command('orders').description('orders: renewals, top-up purchases and SIM orders, their payment and fulfilment');
  addPaging(
    apiCommand(orders, 'list', 'list orders of your account and the accounts below it, newest first')
      .addOption(new Option('--status <status>', `only these statuses (repeatable or comma-separated): ${ORDER_STATUSES.join(', ')}`).argParser(collectOneOf(ORDER_STATUSES)))
      .option('--account <id>', 'only orders of this account')
      .option('--iccid <iccid>', 'only orders with a line for this SIM'),
    100,
  ).action(
    run<PagingOptions & { status?: string[]; account?: string; iccid?: string }>(async (ctx) => {
      const page = await fetchList<OrderDto>(ctx, '/orders', { status: ctx.opts.status?.join(','), accountId: ctx.opts.account, iccid: ctx.opts.iccid }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (o) => o.id },
          { header: 'STATUS', value: (o) => o.status },
          { header: 'AMOUNT', value: (o) => `${o.amount} ${o.currency}`, align: 'right' },
          { header: 'LINES', value: (o) => o.lines.length, align: 'right' },
          { header: 'CREATED', value: (o) => time(o.createdAt) },
          { header: 'ACCOUNT', value: (o) => o.accountId },
        ],
        'orders',
      );
    }),
  );
  apiCommand(orders, 'show', 'show an order: lines, status history, payment')
    .argument('<id>', 'order id')
    .action(run(async (ctx) => printOrder(ctx, await ctx.client.get<OrderDto>(orderPath(ctx.arg(0))))));
  apiCommand(orders, 'pay', 'record the offline payment of an order (the seller); the order is then fulfilled')
    .argument('<id>', 'order id')
    .requiredOption('--reference <text>', 'bank transfer or receipt reference')
    .option('--amount <amount>', 'the amount received; must equal the order total', money)
    .option('--paid-at <time>', 'when the money was received (RFC 3339, default now)')
    .action(
      run<{ reference: string; amount?: string; paidAt?: string }>(async (ctx) =>
        printOrder(ctx, await ctx.client.post<OrderDto>(orderPath(ctx.arg(0), '/payments'), { reference: ctx.opts.reference, amount: ctx.opts.amount, paidAt: ctx.opts.paidAt })),
      ),
    );
  apiCommand(orders, 'cancel', 'cancel an order awaiting payment')
    .argument('<id>', 'order id')
    .option('--reason <text>', 'why')
    .action(run<{ reason?: string }>(async (ctx) => printOrder(ctx, await ctx.client.post<OrderDto>(orderPath(ctx.arg(0), '/cancel'), { reason: ctx.opts.reason }))));

  const products = program.command('top-up-products').description('priced top-up products (加油包) sold by operators and resellers');
  addPaging(apiCommand(products, 'list', 'list the top-up products visible to you').option('--on-sale', 'only products on sale'), 100).action(
    run<PagingOptions & { onSale?: boolean }>(async (ctx) => {
      const page = await fetchList<ProductDto>(ctx, '/top-up-products', { active: ctx.opts.onSale ? 'true' : undefined }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (p) => p.id },
          { header: 'NAME', value: (p) => p.name },
          { header: 'DATA', value: (p) => humanBytes(p.bytes), align: 'right' },
          { header: 'VALID', value: (p) => (p.validMonths === 1 ? 'cycle' : `${p.validMonths} months`) },
          { header: 'PRICE', value: (p) => `${p.price} ${p.currency}`, align: 'right' },
          { header: 'ON SALE', value: (p) => (p.active ? 'yes' : 'no') },
          { header: 'SELLER', value: (p) => p.accountId },
        ],
        'top-up products',
      );
    }),
  );
  apiCommand(products, 'create', 'create a top-up product sold by your account (operator and reseller admins)')
    .argument('<id>', "product id: 1-64 letters, digits, '_', '.' or '-'")
    .requiredOption('--name <name>', 'name shown to buyers')
    .requiredOption('--data <size>', 'data per pack, e.g. 100MB', dataSize)
    .requiredOption('--price <amount>', 'price per pack, e.g. 5.00', money)
    .option('--valid-months <n>', '1 (default): to the end of the cycle; N: N months counting the current one', integer(1, 120))
    .action(
      run<{ name: string; data: number; price: string; validMonths?: number }>(async (ctx) => {
        const p = await ctx.client.post<ProductDto>('/top-up-products', { id: ctx.arg(0), name: ctx.opts.name, bytes: ctx.opts.data, price: ctx.opts.price, validMonths: ctx.opts.validMonths ?? 1 });
        if (ctx.opts.json) return ctx.out.json(p);
        ctx.out.print(`top-up product ${p.id}: ${humanBytes(p.bytes)} for ${p.price} ${p.currency}\n`);
      }),
    );

  const invoices = program.command('invoices').description('invoice requests (发票) for paid orders');
  apiCommand(invoices, 'request', 'request one invoice for paid orders of one account (more than 100 CNY, orders at most 3 months old, each once)')
    .argument('<order...>', 'order ids')
    .requiredOption('--title <text>', '发票抬头: the company name on the invoice')
    .requiredOption('--tax-id <id>', '纳税人识别号')
    .addOption(new Option('--type <type>', 'ordinary (电子普通发票) or special_vat (增值税专用发票)').choices(['ordinary', 'special_vat']).default('ordinary'))
    .option('--email <address>', 'where the electronic invoice is sent (required for ordinary)')
    .option('--address <text>', '单位地址 (required for special_vat)')
    .option('--phone <text>', '电话号码 (required for special_vat)')
    .option('--bank <name>', '开户行 (required for special_vat)')
    .option('--bank-account <number>', '银行账号 (required for special_vat)')
    .action(
      run<{ title: string; taxId: string; type: string; email?: string; address?: string; phone?: string; bank?: string; bankAccount?: string }>(async (ctx) => {
        const o = ctx.opts;
        const body = { orderIds: ctx.args(0), type: o.type, title: o.title, taxId: o.taxId, email: o.email, address: o.address, phone: o.phone, bankName: o.bank, bankAccount: o.bankAccount };
        printInvoice(ctx, await ctx.client.post<InvoiceDto>('/invoices', body));
      }),
    );
  addPaging(
    apiCommand(invoices, 'list', 'list invoice requests, newest first').addOption(
      new Option('--status <status>', `only these statuses: ${INVOICE_STATUSES.join(', ')}`).argParser(collectOneOf(INVOICE_STATUSES)),
    ),
    100,
  ).action(
    run<PagingOptions & { status?: string[] }>(async (ctx) => {
      const page = await fetchList<InvoiceDto>(ctx, '/invoices', { status: ctx.opts.status?.join(',') }, 100);
      printList(
        ctx,
        page,
        [
          { header: 'ID', value: (i) => i.id },
          { header: 'STATUS', value: (i) => i.status },
          { header: 'AMOUNT', value: (i) => `${i.amount} ${i.currency}`, align: 'right' },
          { header: 'TITLE', value: (i) => i.title },
          { header: 'ORDERS', value: (i) => i.orderIds.length, align: 'right' },
          { header: 'NUMBER', value: (i) => i.number ?? '' },
        ],
        'invoice requests',
      );
    }),
  );
  apiCommand(invoices, 'show', 'show an invoice request')
    .argument('<id>', 'invoice request id')
    .action(run(async (ctx) => printInvoice(ctx, await ctx.client.get<InvoiceDto>(`/invoices/${encodeURIComponent(ctx.arg(0))}`))));
  apiCommand(invoices, 'issue', 'record that an invoice was issued, with its number (the seller)')
    .argument('<id>', 'invoice request id')
    .requiredOption('--number <number>', 'the invoice number')
    .option('--issued-on <date>', 'YYYY-MM-DD (default today)')
    .action(
      run<{ number: string; issuedOn?: string }>(async (ctx) =>
        printInvoice(ctx, await ctx.client.post<InvoiceDto>(`/invoices/${encodeURIComponent(ctx.arg(0))}/issue`, { number: ctx.opts.number, issuedOn: ctx.opts.issuedOn })),
      ),
    );
  apiCommand(invoices, 'reject', 'reject an invoice request (the seller); its orders can be invoiced again')
    .argument('<id>', 'invoice request id')
    .requiredOption('--reason <text>', 'why')
    .action(run<{ reason: string }>(async (ctx) => printInvoice(ctx, await ctx.client.post<InvoiceDto>(`/invoices/${encodeURIComponent(ctx.arg(0))}/reject`, { reason: ctx.opts.reason }))));

  const sims = program.commands.find((c) => c.name() === 'sims') ?? program.command('sims');
  apiCommand(sims, 'term', "show a prepaid SIM's term: expiry, last renewal day, cancellation, reminders sent")
    .argument('<iccid>', 'ICCID of the SIM')
    .action(
      run(async (ctx) => {
        const t = await ctx.client.get<{ expiryDate: string; lastRenewalDate: string; cancelAt: string; status: string; remindedDays: number[] }>(`/sims/${encodeURIComponent(ctx.arg(0))}/term`);
        if (ctx.opts.json) return ctx.out.json(t);
        ctx.out.print(
          renderFields([
            ['Expires', t.expiryDate],
            ['Status', t.status],
            ['Renew by', t.lastRenewalDate],
            ['Cancelled at', time(t.cancelAt)],
            ['Reminded', t.remindedDays.length ? t.remindedDays.map((d) => `${d} days before`).join(', ') : 'not yet'],
          ]),
        );
      }),
    );
}

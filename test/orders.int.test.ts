import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountingInput } from '../src/modules/usage/accounting.ts';
import { accountingInput } from './support/accounting.ts';
import { testDialects } from './support/databases.ts';
import { iccidFor, imsiFor, simCsv } from './support/iccid.ts';
import { createTenant, startTestPlatform, type TestPlatform } from './support/platform.ts';

const MB = 1024 * 1024;
const gateway = { id: 'gw_orders', accountId: '' };
const packet = (serial: number, session: string, over: Partial<AccountingInput>): AccountingInput =>
  accountingInput({ acctSessionId: session, imsi: imsiFor(serial), framedIp: null, cell: null, ...over });

interface Tenant {
  accountId: string;
  key: string;
}

interface OrderJson {
  id: string;
  status: string;
  total: string;
  amount: string;
  lines: { kind: string; iccid: string | null; amount: string; unitPrice: string; status: string; result: string | null; details: Record<string, unknown> }[];
  history: { from: string | null; to: string; actor: string | null; note: string | null }[];
  payment: { reference: string } | null;
}

// SIMs of enterprise A1 (below reseller A): 1-2 renewed per the FAQ, 3-4 expire unrenewed, 5 reminders, 6 top-up.
const SIM = (n: number) => iccidFor(n);
const B_SIM = iccidFor(9);
/** Local Shanghai time as an instant. */
const sh = (local: string) => new Date(`${local}+08:00`);

describe.each(testDialects())('orders, renewals and invoices on %s', (dialect) => {
  let t: TestPlatform;
  let resellerA: Tenant;
  let resellerB: Tenant;
  let enterprise: Tenant;
  const as = (who: Tenant | undefined, method: string, url: string, body?: unknown) => t.api(method, url, body, who ? { key: who.key } : {});
  const db = () => t.platform.services.db;
  const term = async (iccid: string) => (await t.api('GET', `/api/v1/sims/${iccid}/term`)).json<{ expiryDate: string; lastRenewalDate: string; status: string; stored: boolean; remindedDays: number[] }>();
  const stateOf = async (iccid: string) => (await t.api('GET', `/api/v1/sims/${iccid}`)).json<{ state: string; suspendReason: string | null }>();
  const pay = (orderId: string, reference: string, who: Tenant | undefined = resellerA, extra: Record<string, unknown> = {}) =>
    as(who, 'POST', `/api/v1/orders/${orderId}/payments`, { reference, ...extra });
  const order = async (items: unknown[]) => {
    const res = await as(enterprise, 'POST', '/api/v1/orders', { items });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<OrderJson>();
  };
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    t.clock.set(sh('2022-05-10T10:00:00'));
    resellerA = await createTenant(t, 'reseller', 'Reseller A');
    resellerB = await createTenant(t, 'reseller', 'Reseller B');
    enterprise = await createTenant(t, 'enterprise', 'Enterprise A1', { parentId: resellerA.accountId, key: resellerA.key });
    expect((await t.api('POST', '/api/v1/zones', { id: 'CN', name: 'China', countries: ['CN'] })).statusCode).toBe(201);
    const plans = [
      { id: 'cn-12m', name: 'China 100 MB, 12 months prepaid', monthlyFee: '19.15', includedBytes: 100 * MB, coverageZoneIds: ['CN'], overage: null, termMonths: 12 },
      { id: 'cn-1mb', name: 'China 1 MB monthly', monthlyFee: '5', includedBytes: MB, coverageZoneIds: ['CN'], overage: null, cutoffBytes: null },
    ];
    for (const p of plans) expect((await t.api('POST', '/api/v1/plans', p)).statusCode).toBe(201);
    expect((await t.api('POST', `/api/v1/sims/imports?accountId=${enterprise.accountId}`, simCsv(1, 6))).statusCode).toBe(202);
    expect((await t.api('POST', `/api/v1/sims/imports?accountId=${resellerB.accountId}`, simCsv(9, 1))).statusCode).toBe(202);
    await t.drainJobs();
    await t.api('POST', '/api/v1/bulk-jobs', { selection: { filter: { state: ['inventory'] } }, change: { state: { state: 'active' } } });
    await t.drainJobs();
    for (const n of [1, 2, 3, 4, 5]) expect((await t.api('PATCH', `/api/v1/sims/${SIM(n)}`, { planId: 'cn-12m' })).statusCode).toBe(200);
    expect((await t.api('PATCH', `/api/v1/sims/${B_SIM}`, { planId: 'cn-12m' })).statusCode).toBe(200);
    expect((await t.api('PATCH', `/api/v1/sims/${SIM(6)}`, { planId: 'cn-1mb' })).statusCode).toBe(200);
    const activated: [number, string][] = [
      [1, '2021-07-12T12:00:00'],
      [2, '2021-12-31T16:00:00'],
      [3, '2021-07-12T09:00:00'],
      [4, '2021-07-20T09:00:00'],
      [5, '2021-09-05T09:00:00'],
    ];
    for (const [n, at] of activated) await sql`UPDATE sims SET activated_at = ${sh(at)} WHERE iccid = ${SIM(n)}`.execute(db());
    expect((await t.api('POST', '/api/v1/top-up-products', { id: 'cn-100mb', name: '加油包 100 MB', bytes: 100 * MB, validMonths: 1, price: '5' })).statusCode).toBe(201);
  });
  afterAll(() => t?.close());

  it('computes the prepaid expiry per the FAQ: the month of activation is the first month', async () => {
    expect(await term(SIM(1))).toMatchObject({ expiryDate: '2022-06-30', lastRenewalDate: '2022-07-22', status: 'in_term', stored: false });
    expect(await term(SIM(2))).toMatchObject({ expiryDate: '2022-11-30', lastRenewalDate: '2022-12-22' });
    expect((await t.api('GET', `/api/v1/sims/${SIM(6)}/term`)).json()).toMatchObject({ code: 'sim_not_prepaid' });
  });

  it('prices a cart exactly, renews each ICCID once per cart, and checks out into one order awaiting payment', async () => {
    const added = await as(enterprise, 'POST', '/api/v1/cart/items', { kind: 'renewal', iccids: [SIM(1), SIM(2)], months: 12 });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().lines.map((l: { amount: string; unitPrice: string }) => [l.unitPrice, l.amount])).toEqual([
      ['19.15', '229.80'],
      ['19.15', '229.80'],
    ]);
    const again = await as(enterprise, 'POST', '/api/v1/cart/items', { kind: 'renewal', iccids: [SIM(1)], months: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'duplicate_renewal', iccids: [SIM(1)] });
    expect((await as(enterprise, 'POST', '/api/v1/cart/items', { kind: 'renewal', iccids: [B_SIM], months: 1 })).json()).toMatchObject({ code: 'sim_not_found' });
    expect((await as(enterprise, 'POST', '/api/v1/cart/items', { kind: 'renewal', iccids: [SIM(6)], months: 1 })).json()).toMatchObject({ code: 'sim_not_prepaid' });
    const limit = await as(enterprise, 'POST', '/api/v1/cart/items', { kind: 'renewal', iccids: [SIM(5)], months: 61 });
    expect(limit.statusCode).toBe(400);

    const cart = (await as(enterprise, 'GET', '/api/v1/cart')).json();
    expect(cart).toMatchObject({ accountId: enterprise.accountId, total: '459.60', currency: 'CNY' });
    const checkout = await as(enterprise, 'POST', '/api/v1/cart/checkout');
    expect(checkout.statusCode, checkout.body).toBe(201);
    const o = checkout.json<OrderJson>();
    expect(o).toMatchObject({ status: 'pending_payment', total: '459.60', amount: '459.60', payment: null });
    expect(o.lines.map((l) => l.details)).toEqual([
      { fromExpiryDate: '2022-06-30', toExpiryDate: '2023-06-30' },
      { fromExpiryDate: '2022-11-30', toExpiryDate: '2023-11-30' },
    ]);
    expect((await as(enterprise, 'GET', '/api/v1/cart')).json().items).toEqual([]);
    expect((await as(enterprise, 'POST', '/api/v1/cart/checkout')).json()).toMatchObject({ code: 'empty_cart' });
    // A second order renewing the same SIM while the first awaits payment is refused.
    expect((await as(enterprise, 'POST', '/api/v1/orders', { items: [{ kind: 'renewal', iccids: [SIM(1)], months: 1 }] })).json()).toMatchObject({ code: 'renewal_pending' });
  });

  it('records the payment by the seller, fulfils at once and only once, and keeps every status change', async () => {
    const [o] = (await as(enterprise, 'GET', '/api/v1/orders?status=pending_payment')).json<{ items: OrderJson[] }>().items;
    expect((await pay(o!.id, 'TX-1', enterprise)).statusCode).toBe(403);
    expect((await pay(o!.id, 'TX-1', resellerB)).statusCode).toBe(404);
    expect((await pay(o!.id, 'TX-1', resellerA, { amount: '459.59' })).json()).toMatchObject({ code: 'payment_amount_mismatch' });
    const paid = await pay(o!.id, 'TX-1', resellerA, { amount: '459.60' });
    expect(paid.statusCode, paid.body).toBe(201);
    const p = paid.json<OrderJson>();
    expect(p.status).toBe('fulfilled');
    expect(p.lines.map((l) => [l.status, l.result])).toEqual([
      ['fulfilled', 'renewed for 12 month(s): expiry 2022-06-30 → 2023-06-30'],
      ['fulfilled', 'renewed for 12 month(s): expiry 2022-11-30 → 2023-11-30'],
    ]);
    expect(p.history.map((h) => [h.from, h.to, h.actor?.split(':')[0]])).toEqual([
      [null, 'pending_payment', 'key'],
      ['pending_payment', 'paid', 'key'],
      ['paid', 'fulfilled', 'system'],
    ]);
    expect(await term(SIM(1))).toMatchObject({ expiryDate: '2023-06-30', stored: true, status: 'in_term' });
    const events = (await as(enterprise, 'GET', `/api/v1/events?type=order.status_changed&subjectKind=order&subjectId=${o!.id}&order=asc`)).json<{ items: { data: { from: string | null; to: string; total: string } }[] }>();
    expect(events.items.map((e) => [e.data.from, e.data.to, e.data.total])).toEqual([
      [null, 'pending_payment', '459.60'],
      ['pending_payment', 'paid', '459.60'],
      ['paid', 'fulfilled', '459.60'],
    ]);
    expect(await term(SIM(2))).toMatchObject({ expiryDate: '2023-11-30' });

    // Paid twice: the same reference changes nothing; another one is refused; fulfilment does not run again.
    const replay = await pay(o!.id, 'TX-1');
    expect(replay.statusCode).toBe(200);
    expect(replay.json<OrderJson>().history).toHaveLength(3);
    expect((await pay(o!.id, 'TX-2')).json()).toMatchObject({ code: 'order_already_paid', reference: 'TX-1' });
    expect(await t.platform.services.orders.fulfil(o!.id)).toBe(false);
    expect(await term(SIM(1))).toMatchObject({ expiryDate: '2023-06-30' });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM payments WHERE order_id = ${o!.id}`.execute(db());
    expect(rows[0]!.n).toBe(1);
  });

  it('keeps one tenant from seeing, paying or cancelling another tenant\'s orders', async () => {
    const [o] = (await as(enterprise, 'GET', '/api/v1/orders')).json<{ items: OrderJson[] }>().items;
    expect((await as(resellerB, 'GET', `/api/v1/orders/${o!.id}`)).statusCode).toBe(404);
    expect((await as(resellerB, 'GET', '/api/v1/orders')).json().items).toEqual([]);
    expect((await as(resellerB, 'POST', `/api/v1/orders/${o!.id}/cancel`)).statusCode).toBe(404);
    expect((await as(resellerA, 'GET', `/api/v1/orders/${o!.id}`)).statusCode).toBe(200);
    expect((await as(resellerA, 'GET', `/api/v1/orders?accountId=${enterprise.accountId}`)).json().items).toHaveLength(1);
    expect((await as(resellerB, 'GET', `/api/v1/sims/${SIM(1)}/term`)).statusCode).toBe(404);
  });

  it('cancels an order awaiting payment, which can then not be paid', async () => {
    const o = await order([{ kind: 'renewal', iccids: [SIM(5)], months: 1 }]);
    const cancelled = await as(enterprise, 'POST', `/api/v1/orders/${o.id}/cancel`, { reason: 'ordered by mistake' });
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    expect((await pay(o.id, 'TX-9')).json()).toMatchObject({ code: 'illegal_order_transition', allowed: [] });
  });

  it('suspends a SIM when its term ends, renews it after expiry without a gap until the 22nd, and cancels the unrenewed on the 23rd (Asia/Shanghai)', async () => {
    t.clock.set(sh('2022-07-01T00:30:00'));
    await t.platform.scheduler.tick();
    expect(await stateOf(SIM(3))).toMatchObject({ state: 'suspended', suspendReason: 'expiry' });
    expect(await stateOf(SIM(4))).toMatchObject({ state: 'suspended', suspendReason: 'expiry' });
    expect(await stateOf(SIM(1))).toMatchObject({ state: 'active' }); // renewed before expiry
    expect(await term(SIM(3))).toMatchObject({ expiryDate: '2022-06-30', status: 'expired_renewable', lastRenewalDate: '2022-07-22' });

    // The 22nd, late evening in Shanghai: still renewable, nothing cancelled.
    t.clock.set(sh('2022-07-22T23:30:00'));
    await t.platform.scheduler.tick();
    expect((await stateOf(SIM(4))).state).toBe('suspended');
    const renewal = await order([{ kind: 'renewal', iccids: [SIM(3)], months: 1 }]);
    expect(renewal.lines[0]!.details).toEqual({ fromExpiryDate: '2022-06-30', toExpiryDate: '2022-07-31' });
    expect((await pay(renewal.id, 'TX-3')).json()).toMatchObject({ status: 'fulfilled' });
    expect(await stateOf(SIM(3))).toMatchObject({ state: 'active', suspendReason: null });
    const changes = (await t.api('GET', `/api/v1/sims/${SIM(3)}/changes?field=state`)).json<{ items: { newValue: string; actor: string; reason: string }[] }>();
    expect(changes.items[0]).toMatchObject({ newValue: 'active', actor: 'system:orders' });
    expect(changes.items[1]).toMatchObject({ newValue: 'suspended', reason: expect.stringContaining('renewable until 2022-07-22') });

    // 00:00:30 on the 23rd in Shanghai (still the 22nd in UTC): the unrenewed SIM is cancelled (销卡).
    t.clock.set(sh('2022-07-23T00:00:30'));
    await t.platform.scheduler.tick();
    expect((await stateOf(SIM(4))).state).toBe('deactivated');
    expect((await stateOf(SIM(3))).state).toBe('active');
    expect(await term(SIM(4))).toMatchObject({ status: 'cancelled' });
    const late = await as(enterprise, 'POST', '/api/v1/orders', { items: [{ kind: 'renewal', iccids: [SIM(4)], months: 12 }] });
    expect(late.statusCode).toBe(400);
    expect(late.json()).toMatchObject({ code: 'renewal_closed', detail: expect.stringContaining('2022-07-22') });
    // Idempotent: another pass changes nothing.
    await t.platform.scheduler.tick();
    expect((await stateOf(SIM(4))).state).toBe('deactivated');
  });

  it('sends each expiry reminder once, 30 and 15 days before the expiry date', async () => {
    expect((await term(SIM(5))).remindedDays).toEqual([]);
    t.clock.set(sh('2022-07-31T23:59:00'));
    await t.platform.scheduler.tick();
    expect((await term(SIM(5))).remindedDays).toEqual([]);
    t.clock.set(sh('2022-08-01T00:10:00'));
    await t.platform.scheduler.tick();
    await t.platform.scheduler.tick();
    expect((await term(SIM(5))).remindedDays).toEqual([30]);
    t.clock.set(sh('2022-08-16T08:00:00'));
    await t.platform.scheduler.tick();
    expect((await term(SIM(5))).remindedDays).toEqual([30, 15]);
    await t.platform.scheduler.tick();
    const events = (await as(enterprise, 'GET', `/api/v1/events?type=sim.expiry_reminder&subjectKind=sim&subjectId=${SIM(5)}&order=asc`)).json<{ items: { data: unknown; occurredAt: string }[] }>();
    expect(events.items.map((e) => [e.data, e.occurredAt])).toEqual([
      [{ iccid: SIM(5), expiryDate: '2022-08-31', daysBefore: 30, lastRenewalDate: '2022-09-22' }, '2022-07-31T16:10:00.000Z'],
      [{ iccid: SIM(5), expiryDate: '2022-08-31', daysBefore: 15, lastRenewalDate: '2022-09-22' }, '2022-08-16T00:00:00.000Z'],
    ]);
    expect((await as(resellerB, 'GET', `/api/v1/events?type=sim.expiry_reminder`)).json().items).toEqual([]);
  });

  it('buys a top-up from the product list: the top-up is added and a quota-suspended SIM becomes active', async () => {
    const engine = t.platform.services.usage;
    await engine.sims.refresh(SIM(6));
    await engine.accounting(gateway, packet(6, 'o1', { status: 'start' }));
    await engine.accounting(gateway, packet(6, 'o1', { bytesIn: 2 * MB }));
    await waitFor(async () => (await stateOf(SIM(6))).state === 'suspended');
    expect(await stateOf(SIM(6))).toMatchObject({ state: 'suspended', suspendReason: 'quota' });

    const other = await as(resellerB, 'POST', '/api/v1/top-up-products', { id: 'b-1gb', name: 'B 1 GB', bytes: 1024 * MB, validMonths: 1, price: '20' });
    expect(other.statusCode).toBe(201);
    expect((await as(enterprise, 'POST', '/api/v1/orders', { items: [{ kind: 'top_up', iccid: SIM(6), productId: 'b-1gb' }] })).json()).toMatchObject({ code: 'top_up_product_not_found' });
    expect((await as(enterprise, 'GET', '/api/v1/top-up-products')).json().items.map((p: { id: string }) => p.id)).toEqual(['cn-100mb']);

    const o = await order([{ kind: 'top_up', iccid: SIM(6), productId: 'cn-100mb', quantity: 2 }]);
    expect(o).toMatchObject({ total: '10.00', lines: [{ kind: 'top_up', unitPrice: '5.00', amount: '10.00', details: { bytes: 200 * MB, validMonths: 1 } }] });
    const paid = (await pay(o.id, 'TX-6')).json<OrderJson>();
    expect(paid.status).toBe('fulfilled');
    const topUps = (await t.api('GET', `/api/v1/sims/${SIM(6)}/top-ups`)).json<{ items: { id: string; bytes: number; expiresAt: string }[] }>().items;
    expect(topUps).toEqual([expect.objectContaining({ id: `top_${o.id}_1`, bytes: 200 * MB, expiresAt: '2022-08-31T16:00:00.000Z' })]);
    await waitFor(async () => (await stateOf(SIM(6))).state === 'active');
    expect(await stateOf(SIM(6))).toMatchObject({ state: 'active', suspendReason: null });
  });

  it('invoices paid orders per the rules: once each, at most 3 months old, more than 100 CNY together', async () => {
    const details = { type: 'ordinary', title: '测试信息科技有限公司', taxId: '913101000000000000', email: 'finance@example.com' };
    const [first] = (await as(enterprise, 'GET', '/api/v1/orders?status=fulfilled')).json<{ items: OrderJson[] }>().items.slice(-1);
    const small = await order([{ kind: 'top_up', iccid: SIM(6), productId: 'cn-100mb' }]);
    const big = await order([{ kind: 'sim_order', planId: 'cn-12m', quantity: 10, shipping: { recipient: '王梦', phone: '+86 21 5555 0000', address: '上海市杨浦区' } }]);
    expect(big).toMatchObject({ total: '2298.00', lines: [{ unitPrice: '229.80', amount: '2298.00' }] });
    const request = (orderIds: string[], extra: Record<string, unknown> = {}) => as(enterprise, 'POST', '/api/v1/invoices', { ...details, orderIds, ...extra });

    expect((await request([big.id])).json()).toMatchObject({ code: 'invoice_not_allowed', detail: expect.stringContaining('not paid') });
    expect((await pay(small.id, 'TX-S')).json()).toMatchObject({ status: 'fulfilled' });
    const fulfilledBig = (await pay(big.id, 'TX-B')).json<OrderJson>();
    expect(fulfilledBig.lines[0]!.result).toContain('10 SIM(s) on plan cn-12m recorded for shipping to 王梦');

    const tooSmall = await request([small.id]);
    expect(tooSmall.statusCode).toBe(400);
    expect(tooSmall.json()).toMatchObject({ code: 'invoice_not_allowed', detail: expect.stringContaining('more than 100.00 CNY') });
    // The first order was paid on 2022-05-10: invoiceable until 2022-08-10.
    expect((await request([first!.id])).json()).toMatchObject({ code: 'invoice_not_allowed', detail: expect.stringContaining('until 2022-08-10') });
    expect((await request([big.id], { type: 'special_vat' })).json()).toMatchObject({ code: 'invalid_invoice_details', detail: expect.stringContaining('bankAccount') });
    expect((await request([big.id], { taxId: 'abc' })).json()).toMatchObject({ code: 'invalid_invoice_details' });

    const created = await request([small.id, big.id]);
    expect(created.statusCode, created.body).toBe(201);
    const inv = created.json<{ id: string; amount: string; status: string }>();
    expect(inv).toMatchObject({ amount: '2303.00', status: 'requested', title: '测试信息科技有限公司' });
    expect((await request([big.id])).json()).toMatchObject({ code: 'invoice_not_allowed', detail: expect.stringContaining('already invoiced') });
    expect((await as(enterprise, 'GET', `/api/v1/orders/${big.id}`)).json().invoiceId).toBe(inv.id);

    expect((await as(resellerB, 'GET', `/api/v1/invoices/${inv.id}`)).statusCode).toBe(404);
    expect((await as(enterprise, 'POST', `/api/v1/invoices/${inv.id}/issue`, { number: 'F-1' })).statusCode).toBe(403);
    const issued = await as(resellerA, 'POST', `/api/v1/invoices/${inv.id}/issue`, { number: '044002200111' });
    expect(issued.json()).toMatchObject({ status: 'issued', number: '044002200111', issuedOn: '2022-08-16' });
    expect((await as(resellerA, 'POST', `/api/v1/invoices/${inv.id}/reject`, { reason: 'late' })).json()).toMatchObject({ code: 'invoice_already_decided' });
    expect((await as(enterprise, 'GET', '/api/v1/invoices')).json().items).toHaveLength(1);
  });

  it('frees the orders of a rejected invoice request', async () => {
    const o = await order([{ kind: 'sim_order', planId: 'cn-12m', quantity: 1, shipping: { recipient: 'Li', phone: '13800000000', address: 'Shanghai' } }]);
    await pay(o.id, 'TX-R');
    const inv = (await as(enterprise, 'POST', '/api/v1/invoices', { type: 'ordinary', title: 'ACME', taxId: '913101000000000000', email: 'a@example.com', orderIds: [o.id] })).json<{ id: string }>();
    expect((await as(resellerA, 'POST', `/api/v1/invoices/${inv.id}/reject`, { reason: 'wrong title' })).json()).toMatchObject({ status: 'rejected', rejectReason: 'wrong title' });
    const again = await as(enterprise, 'POST', '/api/v1/invoices', { type: 'ordinary', title: 'ACME Ltd', taxId: '913101000000000000', email: 'a@example.com', orderIds: [o.id] });
    expect(again.statusCode, again.body).toBe(201);
  });
});

import { type Selectable, sql } from 'kysely';
import type { CartItemTable, Executor, OrderEventTable, OrderLineTable, OrderTable, PaymentTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { toRatePlan } from '../rating/catalog.repository.ts';
import type { RatePlan } from '../rating/rate-plan.ts';
import type { ItemKind, OrderItem, OrderLineDraft, OrderStatus } from './order.ts';

export interface CartItem {
  id: string;
  accountId: string;
  item: OrderItem;
  createdBy: string | null;
  createdAt: Date;
}

export type LineStatus = 'pending' | 'fulfilled' | 'failed';

export interface OrderLine extends Omit<OrderLineDraft, 'currency'> {
  lineNo: number;
  status: LineStatus;
  result: string | null;
  fulfilledAt: Date | null;
}

export interface OrderEvent {
  from: OrderStatus | null;
  to: OrderStatus;
  actor: string | null;
  note: string | null;
  at: Date;
}

export interface Payment {
  id: string;
  amountMicros: number;
  method: string;
  reference: string;
  recordedBy: string | null;
  paidAt: Date;
  recordedAt: Date;
}

export interface Order {
  id: string;
  accountId: string;
  status: OrderStatus;
  currency: string;
  totalMicros: number;
  amountMinor: number;
  invoiceId: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  paidAt: Date | null;
  fulfilledAt: Date | null;
  lines: OrderLine[];
  events: OrderEvent[];
  payment: Payment | null;
}

export type OrderRow = Selectable<OrderTable>;

const toCartItem = (r: Selectable<CartItemTable>): CartItem => ({ id: r.id, accountId: r.account_id, item: r.item as unknown as OrderItem, createdBy: r.created_by, createdAt: r.created_at });

const toLine = (r: Selectable<OrderLineTable>): OrderLine => ({
  lineNo: r.line_no,
  kind: r.kind as ItemKind,
  iccid: r.iccid,
  planId: r.plan_id,
  productId: r.product_id,
  months: r.months,
  quantity: r.quantity,
  unitPriceMicros: Number(r.unit_price_micros),
  amountMicros: Number(r.amount_micros),
  description: r.description,
  details: r.details,
  status: r.status as LineStatus,
  result: r.result,
  fulfilledAt: r.fulfilled_at,
});

const toEvent = (r: Selectable<OrderEventTable>): OrderEvent => ({ from: r.from_status as OrderStatus | null, to: r.to_status as OrderStatus, actor: r.actor, note: r.note, at: r.at });

const toPayment = (r: Selectable<PaymentTable>): Payment => ({
  id: r.id,
  amountMicros: Number(r.amount_micros),
  method: r.method,
  reference: r.reference,
  recordedBy: r.recorded_by,
  paidAt: r.paid_at,
  recordedAt: r.recorded_at,
});

// --- cart --------------------------------------------------------------------------------------------------------

export async function cartItems(db: Executor, accountId: string): Promise<CartItem[]> {
  return (await db.selectFrom('cart_items').selectAll().where('account_id', '=', accountId).orderBy('id').execute()).map(toCartItem);
}

/** Serialises the cart writes of one account until the transaction ends. */
export async function lockCart(db: Executor, accountId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`meridian.cart.${accountId}`}))`.execute(db);
}

export async function insertCartItem(db: Executor, c: CartItem, iccids: string[]): Promise<void> {
  await db
    .insertInto('cart_items')
    .values({ id: c.id, account_id: c.accountId, kind: c.item.kind, item: JSON.stringify(c.item), iccids, created_by: c.createdBy, created_at: c.createdAt })
    .execute();
}

export async function deleteCartItems(db: Executor, accountId: string, ids?: string[]): Promise<number> {
  let q = db.deleteFrom('cart_items').where('account_id', '=', accountId);
  if (ids) q = q.where('id', '=', sql<string>`any(${ids}::text[])`);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows);
}

// --- orders ------------------------------------------------------------------------------------------------------

export async function insertOrder(db: Executor, o: Omit<Order, 'events' | 'payment'>): Promise<void> {
  await db
    .insertInto('orders')
    .values({
      id: o.id,
      account_id: o.accountId,
      status: o.status,
      currency: o.currency,
      total_micros: o.totalMicros,
      amount_minor: o.amountMinor,
      invoice_id: null,
      created_by: o.createdBy,
      created_at: o.createdAt,
      updated_at: o.updatedAt,
      paid_at: null,
      fulfilled_at: null,
    })
    .execute();
  await db
    .insertInto('order_lines')
    .values(
      o.lines.map((l) => ({
        order_id: o.id,
        line_no: l.lineNo,
        kind: l.kind,
        iccid: l.iccid,
        plan_id: l.planId,
        product_id: l.productId,
        months: l.months,
        quantity: l.quantity,
        unit_price_micros: l.unitPriceMicros,
        amount_micros: l.amountMicros,
        description: l.description,
        details: JSON.stringify(l.details),
        status: l.status,
        result: null,
        fulfilled_at: null,
      })),
    )
    .execute();
}

export async function insertEvent(db: Executor, orderId: string, e: OrderEvent): Promise<void> {
  await db.insertInto('order_events').values({ order_id: orderId, from_status: e.from, to_status: e.to, actor: e.actor, note: e.note, at: e.at }).execute();
}

/** Scope of order reads: the orders of the account at `path` and below it; the root sees all. */
export interface OrderScope {
  path: string;
  isRoot: boolean;
}

const scoped = (db: Executor, scope: OrderScope) => {
  const q = db.selectFrom('orders');
  return scope.isRoot ? q : q.where('orders.account_id', 'in', accountIdsUnder(db, scope.path));
};

export async function findOrderRow(db: Executor, id: string, scope: OrderScope): Promise<OrderRow | undefined> {
  return scoped(db, scope).selectAll().where('id', '=', id).executeTakeFirst();
}

/** The order row locked until the transaction ends: payments and fulfilment of one order are serialised on it. */
export async function lockOrderRow(db: Executor, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function lockOrderRows(db: Executor, ids: string[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('orders').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).orderBy('id').forUpdate().execute();
}

export async function listOrderRows(
  db: Executor,
  scope: OrderScope,
  f: { status?: OrderStatus[]; accountId?: string; iccid?: string; after?: string; limit: number },
): Promise<OrderRow[]> {
  let q = scoped(db, scope).selectAll();
  if (f.status?.length) q = q.where('status', 'in', f.status);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.iccid) q = q.where('id', 'in', db.selectFrom('order_lines').select('order_id').where('iccid', '=', f.iccid));
  if (f.after) q = q.where('id', '<', f.after);
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}

export async function withDetails(db: Executor, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [lines, events, payments] = await Promise.all([
    db.selectFrom('order_lines').selectAll().where('order_id', '=', sql<string>`any(${ids}::text[])`).orderBy('order_id').orderBy('line_no').execute(),
    db.selectFrom('order_events').selectAll().where('order_id', '=', sql<string>`any(${ids}::text[])`).orderBy('id').execute(),
    db.selectFrom('payments').selectAll().where('order_id', '=', sql<string>`any(${ids}::text[])`).execute(),
  ]);
  return rows.map((r) => ({
    id: r.id,
    accountId: r.account_id,
    status: r.status as OrderStatus,
    currency: r.currency,
    totalMicros: Number(r.total_micros),
    amountMinor: Number(r.amount_minor),
    invoiceId: r.invoice_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    paidAt: r.paid_at,
    fulfilledAt: r.fulfilled_at,
    lines: lines.filter((l) => l.order_id === r.id).map(toLine),
    events: events.filter((e) => e.order_id === r.id).map(toEvent),
    payment: payments.filter((p) => p.order_id === r.id).map(toPayment)[0] ?? null,
  }));
}

export async function linesOf(db: Executor, orderId: string): Promise<OrderLine[]> {
  return (await db.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_no').execute()).map(toLine);
}

export async function setOrderStatus(db: Executor, id: string, status: OrderStatus, now: Date, extra: { paidAt?: Date; fulfilledAt?: Date } = {}): Promise<void> {
  await db
    .updateTable('orders')
    .set({ status, updated_at: now, ...(extra.paidAt ? { paid_at: extra.paidAt } : {}), ...(extra.fulfilledAt ? { fulfilled_at: extra.fulfilledAt } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function setLineResult(db: Executor, orderId: string, lineNo: number, status: LineStatus, result: string, now: Date): Promise<void> {
  await db.updateTable('order_lines').set({ status, result, fulfilled_at: status === 'fulfilled' ? now : null }).where('order_id', '=', orderId).where('line_no', '=', lineNo).execute();
}

export async function findPayment(db: Executor, orderId: string): Promise<Payment | undefined> {
  const row = await db.selectFrom('payments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
  return row && toPayment(row);
}

export async function insertPayment(db: Executor, orderId: string, p: Payment): Promise<void> {
  await db
    .insertInto('payments')
    .values({ id: p.id, order_id: orderId, amount_micros: p.amountMicros, method: p.method, reference: p.reference, recorded_by: p.recordedBy, paid_at: p.paidAt, recorded_at: p.recordedAt })
    .execute();
}

/** ICCIDs among `iccids` with a renewal in an order awaiting payment. */
export async function pendingRenewals(db: Executor, iccids: string[]): Promise<Map<string, string>> {
  if (iccids.length === 0) return new Map();
  const rows = await db
    .selectFrom('order_lines')
    .innerJoin('orders', 'orders.id', 'order_lines.order_id')
    .select(['order_lines.iccid', 'orders.id'])
    .where('order_lines.kind', '=', 'renewal')
    .where('orders.status', '=', 'pending_payment')
    .where('order_lines.iccid', '=', sql<string>`any(${iccids}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.iccid!, r.id]));
}

/** Orders paid but not yet fulfilled (a stop between payment and fulfilment), oldest first. */
export async function paidUnfulfilled(db: Executor, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('orders').select('id').where('status', '=', 'paid').orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/** Renewal ICCIDs already in the cart of an account. */
export async function iccidsInCart(db: Executor, accountId: string, iccids: string[]): Promise<Set<string>> {
  if (iccids.length === 0) return new Set();
  const rows = await db
    .selectFrom('cart_items')
    .select(sql<string>`unnest(iccids)`.as('iccid'))
    .where('account_id', '=', accountId)
    .where('kind', '=', 'renewal')
    .execute();
  const wanted = new Set(iccids);
  return new Set(rows.map((r) => r.iccid).filter((i) => wanted.has(i)));
}

/** Every version of the given plans, by plan id, oldest first. */
export async function planVersions(db: Executor, ids: string[]): Promise<Map<string, RatePlan[]>> {
  const out = new Map<string, RatePlan[]>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('rate_plans').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).orderBy('id').orderBy('version').execute();
  for (const r of rows) out.set(r.id, [...(out.get(r.id) ?? []), toRatePlan(r)]);
  return out;
}

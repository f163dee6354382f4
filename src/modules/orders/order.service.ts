import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { isRootPath, type Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { findPlan } from '../rating/catalog.repository.ts';
import { formatMicros } from '../rating/money.ts';
import { planVersionAt, type RatePlan } from '../rating/rate-plan.ts';
import { findProductFor } from '../rating/top-up-product.repository.ts';
import type { TopUpRecord, TopUpService } from '../rating/top-up.service.ts';
import * as sims from '../sims/sim.repository.ts';
import type { SimRow } from '../sims/sim.repository.ts';
import { scopeOf } from '../sims/sim.service.ts';
import * as repo from './order.repository.ts';
import type { CartItem, Order, OrderLine, OrderScope } from './order.repository.ts';
import {
  checkItem,
  checkOrderTransition,
  checkRenewalsOnce,
  type OrderItem,
  type OrderLineDraft,
  type OrderStatus,
  orderTotal,
  renewalIccids,
  renewalLine,
  simOrderLine,
  topUpLine,
} from './order.ts';
import { timeZonesOf } from './prepaid-term.repository.ts';
import type { PrepaidTermService, PublishEvents } from './prepaid-term.service.ts';

export type { CartItem, Order, OrderLine } from './order.repository.ts';

/** A cart item with its lines priced now, or the problem that keeps it from being ordered. */
export interface PricedCartItem extends CartItem {
  lines: OrderLineDraft[];
  problem: { code: string; message: string } | null;
}

export interface Cart {
  accountId: string;
  items: PricedCartItem[];
  /** Total of the items that can be ordered, exact in micros. */
  totalMicros: number;
  currency: string | null;
}

export interface PaymentInput {
  reference: string;
  /** When given, must equal the order total. */
  amountMicros?: number;
  paidAt?: Date;
}

const ALL: sims.Scope = { path: '/', isRoot: true };
const orderScope = (p: Principal): OrderScope => ({ path: p.accountPath, isRoot: isRootPath(p.accountPath) });
const SYSTEM_ACTOR = 'system:orders';

/**
 * The cart and orders: renewals of prepaid SIMs (续费), top-up purchases (加油包) and SIM orders, priced exactly from
 * the catalogue when ordered, paid offline (recorded by the seller), then fulfilled automatically and once.
 */
export class OrderService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly topUps: TopUpService,
    private readonly terms: PrepaidTermService,
    private readonly publish: PublishEvents,
  ) {}

  /** Records a status change in the order's history and publishes `order.status_changed`, in the caller's transaction. */
  private async statusChanged(trx: Executor, order: { id: string; accountId: string; totalMicros: number; currency: string }, e: repo.OrderEvent): Promise<void> {
    await repo.insertEvent(trx, order.id, e);
    await this.publish(
      trx,
      [
        {
          type: 'order.status_changed',
          accountId: order.accountId,
          subject: { kind: 'order', id: order.id },
          data: { orderId: order.id, from: e.from, to: e.to, total: formatMicros(order.totalMicros, order.currency), currency: order.currency, actor: e.actor, note: e.note },
        },
      ],
      e.at,
    );
  }

  // --- cart ----------------------------------------------------------------------------------------------------

  /** Adds an item to the cart of the caller's account after checking it can be ordered now. */
  async addToCart(principal: Principal, item: OrderItem): Promise<PricedCartItem> {
    requirePermission(principal, 'orders:write');
    checkItem(item);
    return this.db.transaction().execute(async (trx) => {
      await repo.lockCart(trx, principal.accountId);
      checkRenewalsOnce([item], await repo.iccidsInCart(trx, principal.accountId, renewalIccids(item)));
      const lines = await this.priceItems(trx, principal, [item]);
      const cartItem: CartItem = { id: newId('cart'), accountId: principal.accountId, item, createdBy: principal.actor, createdAt: this.clock.now() };
      await repo.insertCartItem(trx, cartItem, renewalIccids(item));
      return { ...cartItem, lines, problem: null };
    });
  }

  /** The cart of the caller's account, each item priced now. */
  async getCart(principal: Principal): Promise<Cart> {
    const items = await repo.cartItems(this.db, principal.accountId);
    const priced: PricedCartItem[] = [];
    for (const c of items) {
      try {
        priced.push({ ...c, lines: await this.priceItems(this.db, principal, [c.item]), problem: null });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        priced.push({ ...c, lines: [], problem: { code: e.code, message: e.message } });
      }
    }
    const lines = priced.flatMap((p) => p.lines);
    return { accountId: principal.accountId, items: priced, totalMicros: lines.reduce((s, l) => s + l.amountMicros, 0), currency: lines[0]?.currency ?? null };
  }

  async removeFromCart(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'orders:write');
    if ((await repo.deleteCartItems(this.db, principal.accountId, [id])) === 0) throw notFound('cart_item', id);
  }

  async clearCart(principal: Principal): Promise<number> {
    requirePermission(principal, 'orders:write');
    return repo.deleteCartItems(this.db, principal.accountId);
  }

  /** Turns the whole cart into one order awaiting payment (合并付款) and empties the cart. */
  async checkout(principal: Principal): Promise<Order> {
    requirePermission(principal, 'orders:write');
    const id = await this.db.transaction().execute(async (trx) => {
      await repo.lockCart(trx, principal.accountId);
      const items = await repo.cartItems(trx, principal.accountId);
      if (items.length === 0) throw invalid('empty_cart', 'the cart is empty: add items with POST /api/v1/cart/items first');
      const id = await this.createOrder(trx, principal, items.map((c) => c.item));
      await repo.deleteCartItems(trx, principal.accountId, items.map((c) => c.id));
      return id;
    });
    return this.getOrder(principal, id);
  }

  /** Places an order directly, without the cart (renew one SIM at once). */
  async placeOrder(principal: Principal, items: OrderItem[]): Promise<Order> {
    requirePermission(principal, 'orders:write');
    for (const item of items) checkItem(item);
    const id = await this.db.transaction().execute((trx) => this.createOrder(trx, principal, items));
    return this.getOrder(principal, id);
  }

  private async createOrder(trx: Executor, principal: Principal, items: OrderItem[]): Promise<string> {
    checkRenewalsOnce(items);
    const drafts = await this.priceItems(trx, principal, items);
    const total = orderTotal(drafts);
    const now = this.clock.now();
    const id = newId('ord');
    await repo.insertOrder(
      trx,
      {
        id,
        accountId: principal.accountId,
        status: 'pending_payment',
        currency: total.currency,
        totalMicros: total.totalMicros,
        amountMinor: total.amountMinor,
        invoiceId: null,
        createdBy: principal.actor,
        createdAt: now,
        updatedAt: now,
        paidAt: null,
        fulfilledAt: null,
        lines: drafts.map((d, i) => ({ ...d, lineNo: i + 1, status: 'pending', result: null, fulfilledAt: null })),
      },
    );
    await this.statusChanged(
      trx,
      { id, accountId: principal.accountId, totalMicros: total.totalMicros, currency: total.currency },
      { from: null, to: 'pending_payment', actor: principal.actor, note: `placed: ${drafts.length} line(s), ${formatMicros(total.totalMicros, total.currency)} ${total.currency}`, at: now },
    );
    return id;
  }

  /** Prices items now from the catalogue, checking every SIM, plan and product is visible and can be ordered. */
  private async priceItems(db: Executor, principal: Principal, items: OrderItem[]): Promise<OrderLineDraft[]> {
    const now = this.clock.now();
    const iccids = [...new Set(items.flatMap((i) => (i.kind === 'renewal' ? i.iccids : i.kind === 'top_up' ? [i.iccid] : [])))];
    const rows = new Map((await sims.findSimRows(db, iccids, scopeOf(principal))).map((r) => [r.iccid, r]));
    const missing = iccids.find((i) => !rows.has(i));
    if (missing) throw notFound('sim', missing);
    const zones = await timeZonesOf(db, [...new Set([...rows.values()].map((r) => r.account_id))]);
    const versions = await repo.planVersions(db, [...new Set([...rows.values()].map((r) => r.plan_id).filter((p): p is string => p !== null))]);
    const pending = await repo.pendingRenewals(db, items.flatMap(renewalIccids));
    const lines: OrderLineDraft[] = [];
    for (const item of items) {
      if (item.kind === 'renewal') {
        for (const iccid of item.iccids) {
          const sim = rows.get(iccid)!;
          const plan = planOf(sim, versions, now);
          const order = pending.get(iccid);
          if (order) throw conflict('renewal_pending', `SIM ${iccid} is already renewed by order ${order}, which awaits payment; pay or cancel that order first (请勿重复提交)`, { orderId: order });
          const term = await this.terms.previewRenewal(db, sim, plan.termMonths, item.months, zones.get(sim.account_id)!);
          lines.push(renewalLine(iccid, plan, item.months, { fromExpiryDate: term.from.expiryDate, toExpiryDate: term.to.expiryDate }));
        }
      } else if (item.kind === 'top_up') {
        const sim = rows.get(item.iccid)!;
        if (!sim.plan_id) throw invalid('sim_has_no_plan', `SIM ${item.iccid} is on no rate plan: put it on a plan before buying data for it`);
        const path = (await sims.accountPathsOf(db, [sim.account_id])).get(sim.account_id)!;
        const product = await findProductFor(db, item.productId, path);
        if (!product) throw notFound('top_up_product', item.productId);
        if (!product.active) throw invalid('top_up_product_inactive', `top-up product ${product.id} is no longer sold; choose another from GET /api/v1/top-up-products`);
        lines.push(topUpLine(item.iccid, product, item.quantity));
      } else {
        const plan = await findPlan(db, item.planId, principal.accountPath);
        if (!plan || !principal.accountPath.includes(`/${plan.accountId}/`)) throw notFound('plan', item.planId);
        const v = planVersionAt(plan.versions, now);
        if (!v) throw invalid('plan_not_in_force', `plan ${item.planId} has no version in force yet`);
        lines.push(simOrderLine(v, item.quantity, item.shipping));
      }
    }
    return lines;
  }

  // --- orders --------------------------------------------------------------------------------------------------

  async getOrder(principal: Principal, id: string): Promise<Order> {
    const row = await repo.findOrderRow(this.db, id, orderScope(principal));
    if (!row) throw notFound('order', id);
    const [order] = await repo.withDetails(this.db, [row]);
    return order!;
  }

  /** Orders of the caller's account and the accounts below it, newest first. */
  async listOrders(
    principal: Principal,
    filter: { status?: OrderStatus[]; accountId?: string; iccid?: string; after?: string; limit: number },
  ): Promise<{ items: Order[]; nextCursor: string | null }> {
    const rows = await repo.listOrderRows(this.db, orderScope(principal), filter);
    const items = await repo.withDetails(this.db, rows);
    return { items, nextCursor: rows.length === filter.limit ? (rows.at(-1)?.id ?? null) : null };
  }

  /** Cancels an order awaiting payment. */
  async cancelOrder(principal: Principal, id: string, reason?: string): Promise<Order> {
    requirePermission(principal, 'orders:write');
    await this.getOrder(principal, id);
    await this.db.transaction().execute(async (trx) => {
      const row = (await repo.lockOrderRow(trx, id))!;
      checkOrderTransition(id, row.status as OrderStatus, 'cancelled');
      const now = this.clock.now();
      await repo.setOrderStatus(trx, id, 'cancelled', now);
      await this.statusChanged(trx, orderOf(row), { from: row.status as OrderStatus, to: 'cancelled', actor: principal.actor, note: reason ?? null, at: now });
    });
    return this.getOrder(principal, id);
  }

  /**
   * Records the (offline) payment of an order and fulfils it. Only the seller records it: an account above the
   * order's, or the operator. Recording the same reference again changes nothing (`replayed`); another reference
   * for a paid order is `order_already_paid`.
   */
  async recordPayment(principal: Principal, id: string, input: PaymentInput): Promise<{ order: Order; replayed: boolean }> {
    requirePermission(principal, 'orders:pay');
    const visible = await this.getOrder(principal, id);
    if (visible.accountId === principal.accountId && !isRootPath(principal.accountPath)) {
      throw forbidden(`order ${id} is an order of your own account; its payment is recorded by the seller (an account above yours)`);
    }
    const replayed = await this.db.transaction().execute(async (trx) => {
      const row = (await repo.lockOrderRow(trx, id))!;
      const status = row.status as OrderStatus;
      if (status === 'paid' || status === 'fulfilled' || status === 'failed') {
        const existing = await repo.findPayment(trx, id);
        if (existing?.reference === input.reference) return true;
        throw conflict('order_already_paid', `order ${id} was already paid (reference ${existing?.reference ?? 'unknown'}); a payment is recorded once`, { reference: existing?.reference });
      }
      checkOrderTransition(id, status, 'paid');
      const total = Number(row.total_micros);
      if (input.amountMicros !== undefined && input.amountMicros !== total) {
        throw invalid('payment_amount_mismatch', `the payment of ${formatMicros(input.amountMicros, row.currency)} ${row.currency} does not match the order total of ${formatMicros(total, row.currency)} ${row.currency}; an order is paid in full`);
      }
      const now = this.clock.now();
      const paidAt = input.paidAt ?? now;
      await repo.insertPayment(trx, id, { id: newId('pay'), amountMicros: total, method: 'offline', reference: input.reference, recordedBy: principal.actor, paidAt, recordedAt: now });
      await repo.setOrderStatus(trx, id, 'paid', now, { paidAt });
      await this.statusChanged(trx, orderOf(row), { from: status, to: 'paid', actor: principal.actor, note: `offline payment, reference ${input.reference}`, at: now });
      return false;
    });
    await this.fulfil(id);
    return { order: await this.getOrder(principal, id), replayed };
  }

  /**
   * Fulfils a paid order, line by line, in one transaction on the locked order: renewals extend the SIM's term,
   * top-up purchases add the top-up, SIM orders are recorded for shipping. Idempotent: a line fulfils once and an
   * order that is not `paid` is left alone. Returns whether it did anything.
   */
  async fulfil(id: string): Promise<boolean> {
    const topUps: TopUpRecord[] = [];
    const renewed: string[] = [];
    const done = await this.db.transaction().execute(async (trx) => {
      const row = await repo.lockOrderRow(trx, id);
      if (!row || row.status !== 'paid') return false;
      const now = this.clock.now();
      let failed = 0;
      for (const line of (await repo.linesOf(trx, id)).filter((l) => l.status === 'pending')) {
        try {
          const result = await this.fulfilLine(trx, id, row.currency, line, topUps, renewed);
          await repo.setLineResult(trx, id, line.lineNo, 'fulfilled', result, now);
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          failed++;
          await repo.setLineResult(trx, id, line.lineNo, 'failed', e.message, now);
        }
      }
      const to: OrderStatus = failed ? 'failed' : 'fulfilled';
      await repo.setOrderStatus(trx, id, to, now, to === 'fulfilled' ? { fulfilledAt: now } : {});
      await this.statusChanged(trx, orderOf(row), {
        from: 'paid',
        to,
        actor: SYSTEM_ACTOR,
        note: failed ? `${failed} line(s) could not be fulfilled; see the lines (a refund is due for them)` : 'every line fulfilled',
        at: now,
      });
      return true;
    });
    // NOTE: the top-ups and terms are committed; the balance in memory and the SIM state follow. Both are also
    // caught up later (the engine reloads top-ups at start, the scheduler resumes renewed SIMs).
    for (const t of topUps) this.topUps.announce(t);
    if (renewed.length) await this.terms.resumeRenewed(renewed);
    return done;
  }

  private async fulfilLine(trx: Executor, orderId: string, currency: string, line: OrderLine, topUps: TopUpRecord[], renewed: string[]): Promise<string> {
    if (line.kind === 'sim_order') {
      const s = line.details.shipping as { recipient: string; address: string };
      return `${line.quantity} SIM(s) on plan ${line.planId} recorded for shipping to ${s.recipient}, ${s.address}`;
    }
    const [sim] = await sims.findSimRows(trx, [line.iccid!], ALL);
    if (!sim) throw invalid('sim_not_found', `SIM ${line.iccid} no longer exists`);
    if (line.kind === 'renewal') {
      const timeZone = (await timeZonesOf(trx, [sim.account_id])).get(sim.account_id)!;
      const versions = await repo.planVersions(trx, sim.plan_id ? [sim.plan_id] : []);
      const plan = planOf(sim, versions, this.clock.now());
      const { from, to } = await this.terms.renew(trx, sim, plan.termMonths, line.months!, timeZone);
      if (sim.state === 'suspended' && sim.suspend_reason === 'expiry') renewed.push(sim.iccid);
      return `renewed for ${line.months} month(s): expiry ${from.expiryDate} → ${to.expiryDate}`;
    }
    if (!sim.plan_id) throw invalid('sim_has_no_plan', `SIM ${sim.iccid} is on no rate plan any more; the top-up was not added`);
    const record = await this.topUps.recordTopUp(trx, {
      id: `top_${orderId}_${line.lineNo}`,
      accountId: sim.account_id,
      iccid: sim.iccid,
      bytes: line.details.bytes as number,
      validMonths: line.details.validMonths as number,
      actor: `order:${orderId}`,
      // NOTE: paid by the order: the bill shows it with the order and does not charge it again.
      price: line.productId ? { productId: line.productId, priceMicros: line.amountMicros, currency, orderId } : undefined,
    });
    topUps.push(record);
    return `top-up ${record.id} of ${record.bytes} bytes, usable until ${record.expiresAt.toISOString()}`;
  }

  /** Fulfils orders left paid by a stop between payment and fulfilment (scheduler). Returns how many. */
  async fulfilPaid(): Promise<number> {
    let count = 0;
    for (const id of await repo.paidUnfulfilled(this.db, 100)) if (await this.fulfil(id)) count++;
    return count;
  }
}

const orderOf = (r: repo.OrderRow) => ({ id: r.id, accountId: r.account_id, totalMicros: Number(r.total_micros), currency: r.currency });

function planOf(sim: SimRow, versions: Map<string, RatePlan[]>, now: Date): RatePlan {
  if (!sim.plan_id) throw invalid('sim_has_no_plan', `SIM ${sim.iccid} is on no rate plan; renewal continues the term of its plan`);
  const all = versions.get(sim.plan_id) ?? [];
  const v = planVersionAt(all, now) ?? all[0];
  if (!v) throw invalid('sim_has_no_plan', `SIM ${sim.iccid} is on plan ${sim.plan_id}, which has no version`);
  if (v.termMonths === null) throw invalid('sim_not_prepaid', `SIM ${sim.iccid} is on ${v.id}, a monthly plan; only SIMs on prepaid plans (with termMonths) are renewed`);
  return v;
}

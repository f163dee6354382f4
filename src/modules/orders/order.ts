/**
 * Orders and the cart: item kinds, line pricing (exact, in micros, from the catalogue), the order status flow. Pure,
 * no I/O. Rules from the Fanyi manual (seed 003): one ICCID at most once in a cart; renewal priced at the plan's
 * monthly fee for each month; a top-up at its product price.
 */
import { conflict, invalid } from '../../shared/errors.ts';
import { formatMicros, roundToMinor } from '../rating/money.ts';
import { validityText } from '../rating/top-up-product.ts';

export const ORDER_STATUSES = ['pending_payment', 'paid', 'fulfilled', 'cancelled', 'failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** pending_payment → paid → fulfilled (or failed when a line cannot be fulfilled); pending_payment → cancelled. */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['paid', 'cancelled'],
  paid: ['fulfilled', 'failed'],
  fulfilled: [],
  cancelled: [],
  failed: [],
};

/** Throws `illegal_order_transition` naming the allowed targets. */
export function checkOrderTransition(orderId: string, from: OrderStatus, to: OrderStatus): void {
  if (ORDER_TRANSITIONS[from].includes(to)) return;
  const allowed = ORDER_TRANSITIONS[from];
  throw conflict('illegal_order_transition', `order ${orderId} is ${from} and cannot become ${to}; allowed from ${from}: ${allowed.length ? allowed.join(', ') : 'none (final)'}`, {
    orderStatus: from,
    allowed,
  });
}

export const ITEM_KINDS = ['renewal', 'top_up', 'sim_order'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export interface ShippingAddress {
  recipient: string;
  phone: string;
  address: string;
  postalCode?: string;
}

/** Most SIMs in one renewal item, and months in one renewal. */
export const MAX_RENEWAL_SIMS = 1000;
export const MAX_RENEWAL_MONTHS = 60;
export const MAX_QUANTITY = 100_000;

export type OrderItem =
  | { kind: 'renewal'; iccids: string[]; months: number }
  | { kind: 'top_up'; iccid: string; productId: string; quantity: number }
  | { kind: 'sim_order'; planId: string; quantity: number; shipping: ShippingAddress };

/** The ICCIDs an item is about (renewals and top-ups); a SIM order has none. */
export function itemIccids(item: OrderItem): string[] {
  return item.kind === 'renewal' ? item.iccids : item.kind === 'top_up' ? [item.iccid] : [];
}

/** Renewal ICCIDs: an ICCID may be renewed once per cart or order (同一 ICCID 不能添加多个套餐至购物车). */
export function renewalIccids(item: OrderItem): string[] {
  return item.kind === 'renewal' ? item.iccids : [];
}

/** Throws `duplicate_renewal` when an ICCID is renewed twice among these items (or already in the cart). */
export function checkRenewalsOnce(items: readonly OrderItem[], alreadyInCart: ReadonlySet<string> = new Set()): void {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) {
    for (const iccid of renewalIccids(item)) {
      if (seen.has(iccid) || alreadyInCart.has(iccid)) twice.add(iccid);
      seen.add(iccid);
    }
  }
  if (twice.size) {
    const list = [...twice];
    throw conflict('duplicate_renewal', `SIM ${list.slice(0, 10).join(', ')}${list.length > 10 ? ` and ${list.length - 10} more` : ''} is renewed more than once; an ICCID can be in a cart or order with one renewal only (renew it for more months instead)`, {
      iccids: list,
    });
  }
}

/** Throws `invalid_order_item` unless the item's numbers are within their limits. */
export function checkItem(item: OrderItem): void {
  const problems: string[] = [];
  if (item.kind === 'renewal') {
    if (item.iccids.length < 1 || item.iccids.length > MAX_RENEWAL_SIMS) problems.push(`a renewal names 1 to ${MAX_RENEWAL_SIMS} SIMs (got ${item.iccids.length})`);
    if (!Number.isSafeInteger(item.months) || item.months < 1 || item.months > MAX_RENEWAL_MONTHS) problems.push(`months must be a whole number from 1 to ${MAX_RENEWAL_MONTHS} (got ${item.months})`);
  } else if (!Number.isSafeInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
    problems.push(`quantity must be a whole number from 1 to ${MAX_QUANTITY} (got ${item.quantity})`);
  }
  if (item.kind === 'sim_order') {
    const s = item.shipping;
    if (!s.recipient.trim()) problems.push('shipping.recipient is required');
    if (!/^\+?[0-9 ()-]{5,20}$/.test(s.phone)) problems.push(`shipping.phone ${JSON.stringify(s.phone)} is not a phone number (5-20 digits, spaces, +, - or parentheses)`);
    if (!s.address.trim()) problems.push('shipping.address is required');
  }
  if (problems.length) throw invalid('invalid_order_item', problems.join('; '), { problems });
}

/** A priced line of an order. */
export interface OrderLineDraft {
  kind: ItemKind;
  iccid: string | null;
  planId: string | null;
  productId: string | null;
  months: number | null;
  quantity: number;
  unitPriceMicros: number;
  amountMicros: number;
  currency: string;
  description: string;
  details: Record<string, unknown>;
}

function times(a: number, b: number, what: string): number {
  const product = a * b;
  if (!Number.isSafeInteger(product)) throw invalid('amount_too_large', `${what} is beyond the exact range of amounts`);
  return product;
}

export interface PricedPlan {
  id: string;
  name: string;
  currency: string;
  monthlyFeeMicros: number;
  termMonths: number | null;
}

/** A renewal of one SIM: the plan's monthly fee for each month. */
export function renewalLine(iccid: string, plan: PricedPlan, months: number, term: { fromExpiryDate: string; toExpiryDate: string }): OrderLineDraft {
  return {
    kind: 'renewal',
    iccid,
    planId: plan.id,
    productId: null,
    months,
    quantity: 1,
    unitPriceMicros: plan.monthlyFeeMicros,
    amountMicros: times(plan.monthlyFeeMicros, months, `renewal of ${iccid}`),
    currency: plan.currency,
    description: `续费 renewal of SIM ${iccid} on ${plan.name} for ${months} month(s) at ${formatMicros(plan.monthlyFeeMicros, plan.currency)} ${plan.currency}/month: expiry ${term.fromExpiryDate} → ${term.toExpiryDate}`,
    details: { fromExpiryDate: term.fromExpiryDate, toExpiryDate: term.toExpiryDate },
  };
}

export interface PricedProduct {
  id: string;
  name: string;
  bytes: number;
  validMonths: number;
  priceMicros: number;
  currency: string;
}

/** A top-up purchase for one SIM: the product's price for each pack; the packs are added as one top-up. */
export function topUpLine(iccid: string, product: PricedProduct, quantity: number): OrderLineDraft {
  return {
    kind: 'top_up',
    iccid,
    planId: null,
    productId: product.id,
    months: null,
    quantity,
    unitPriceMicros: product.priceMicros,
    amountMicros: times(product.priceMicros, quantity, `top-up of ${iccid}`),
    currency: product.currency,
    description: `加油包 ${quantity} × ${product.name} for SIM ${iccid}, valid ${validityText(product.validMonths)}`,
    details: { bytes: times(product.bytes, quantity, 'top-up data'), validMonths: product.validMonths },
  };
}

/** SIMs ordered on a plan: each at the plan's first term (monthly fee × term months, or one month for a monthly plan). */
export function simOrderLine(plan: PricedPlan, quantity: number, shipping: ShippingAddress): OrderLineDraft {
  const months = plan.termMonths ?? 1;
  const unit = times(plan.monthlyFeeMicros, months, `SIM price on ${plan.id}`);
  return {
    kind: 'sim_order',
    iccid: null,
    planId: plan.id,
    productId: null,
    months,
    quantity,
    unitPriceMicros: unit,
    amountMicros: times(unit, quantity, `order of ${quantity} SIMs`),
    currency: plan.currency,
    description: `${quantity} SIM(s) on ${plan.name}, ${months} month(s) each at ${formatMicros(plan.monthlyFeeMicros, plan.currency)} ${plan.currency}/month, shipped to ${shipping.recipient}`,
    details: { shipping },
  };
}

/** The total of an order: the exact sum of its lines in micros, and that rounded once to the minor unit. */
export function orderTotal(lines: readonly OrderLineDraft[]): { currency: string; totalMicros: number; amountMinor: number } {
  if (lines.length === 0) throw invalid('empty_order', 'an order needs at least one item (the cart is empty)');
  const currencies = [...new Set(lines.map((l) => l.currency))];
  if (currencies.length > 1) throw invalid('currency_mismatch', `the items are priced in ${currencies.join(' and ')}; one order is in one currency, place separate orders`);
  const currency = currencies[0]!;
  let total = 0;
  for (const l of lines) total += l.amountMicros;
  if (!Number.isSafeInteger(total)) throw invalid('amount_too_large', 'the order total is beyond the exact range of amounts');
  return { currency, totalMicros: total, amountMinor: roundToMinor(total, currency) };
}

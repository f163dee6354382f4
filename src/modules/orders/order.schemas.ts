/**
 * The API contract of orders, the cart, prepaid terms and invoices. Money is a decimal string in the major unit
 * (`"228"`, `"19.15"` CNY), exact: order lines to the micro, invoice amounts to the fen.
 */
import { z } from 'zod';
import { iso, isoOrNull, Timestamp } from '../../http/schemas.ts';
import { formatMicros, formatMinor, parseMicros } from '../rating/money.ts';
import { Money } from '../rating/catalog.schemas.ts';
import { INVOICE_STATUSES, INVOICE_TYPES } from './invoice.ts';
import type { InvoiceRequest } from './invoice.repository.ts';
import { ITEM_KINDS, MAX_QUANTITY, MAX_RENEWAL_MONTHS, MAX_RENEWAL_SIMS, ORDER_STATUSES, type OrderItem, type OrderLineDraft } from './order.ts';
import type { Cart, Order, PricedCartItem } from './order.service.ts';
import type { TermView } from './prepaid-term.service.ts';

const Iccid = z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits');

const ShippingSchema = z
  .object({
    recipient: z.string().trim().min(1).max(100),
    phone: z.string().min(5).max(20),
    address: z.string().trim().min(1).max(500),
    postalCode: z.string().max(20).optional(),
  })
  .strict();

export const OrderItemSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('renewal'),
        iccids: z.array(Iccid).min(1).max(MAX_RENEWAL_SIMS).describe('the prepaid SIMs to renew, each on its own plan'),
        months: z.number().int().min(1).max(MAX_RENEWAL_MONTHS).describe('months added to each term, priced at the plan\'s monthly fee'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('top_up'),
        iccid: Iccid,
        productId: z.string().min(1).max(64).describe('a top-up product (GET /api/v1/top-up-products) sold to the SIM\'s account'),
        quantity: z.number().int().min(1).max(MAX_QUANTITY).default(1),
      })
      .strict(),
    z
      .object({
        kind: z.literal('sim_order'),
        planId: z.string().min(1).max(64),
        quantity: z.number().int().min(1).max(MAX_QUANTITY),
        shipping: ShippingSchema,
      })
      .strict(),
  ])
  .meta({ id: 'OrderItem' });

const LineSchema = z.object({
  kind: z.enum(ITEM_KINDS),
  iccid: z.string().nullable(),
  planId: z.string().nullable(),
  productId: z.string().nullable(),
  months: z.number().int().nullable(),
  quantity: z.number().int(),
  unitPrice: Money,
  amount: Money.describe('unit price × months or quantity, exact'),
  description: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const OrderLineSchema = LineSchema.extend({
  lineNo: z.number().int(),
  status: z.enum(['pending', 'fulfilled', 'failed']),
  result: z.string().nullable().describe('what fulfilment did, or why it failed'),
  fulfilledAt: Timestamp.nullable(),
});

export const OrderSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    status: z.enum(ORDER_STATUSES),
    currency: z.string(),
    total: Money.describe('exact sum of the lines'),
    amount: z.string().describe('the total rounded once to the minor unit (what is paid and invoiced)'),
    invoiceId: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    paidAt: Timestamp.nullable(),
    fulfilledAt: Timestamp.nullable(),
    lines: z.array(OrderLineSchema),
    history: z.array(z.object({ from: z.enum(ORDER_STATUSES).nullable(), to: z.enum(ORDER_STATUSES), actor: z.string().nullable(), note: z.string().nullable(), at: Timestamp })).describe('every status change with time and actor'),
    payment: z.object({ id: z.string(), amount: Money, method: z.string(), reference: z.string(), recordedBy: z.string().nullable(), paidAt: Timestamp, recordedAt: Timestamp }).nullable(),
  })
  .meta({ id: 'Order' });

const lineDto = (l: OrderLineDraft) => ({
  kind: l.kind,
  iccid: l.iccid,
  planId: l.planId,
  productId: l.productId,
  months: l.months,
  quantity: l.quantity,
  unitPrice: formatMicros(l.unitPriceMicros, l.currency),
  amount: formatMicros(l.amountMicros, l.currency),
  description: l.description,
  details: l.details,
});

export const orderDto = (o: Order) => ({
  id: o.id,
  accountId: o.accountId,
  status: o.status,
  currency: o.currency,
  total: formatMicros(o.totalMicros, o.currency),
  amount: formatMinor(o.amountMinor, o.currency),
  invoiceId: o.invoiceId,
  createdBy: o.createdBy,
  createdAt: iso(o.createdAt),
  updatedAt: iso(o.updatedAt),
  paidAt: isoOrNull(o.paidAt),
  fulfilledAt: isoOrNull(o.fulfilledAt),
  lines: o.lines.map((l) => ({ ...lineDto({ ...l, currency: o.currency }), lineNo: l.lineNo, status: l.status, result: l.result, fulfilledAt: isoOrNull(l.fulfilledAt) })),
  history: o.events.map((e) => ({ ...e, at: iso(e.at) })),
  payment: o.payment && {
    id: o.payment.id,
    amount: formatMicros(o.payment.amountMicros, o.currency),
    method: o.payment.method,
    reference: o.payment.reference,
    recordedBy: o.payment.recordedBy,
    paidAt: iso(o.payment.paidAt),
    recordedAt: iso(o.payment.recordedAt),
  },
});

const CartItemSchema = z.object({
  id: z.string(),
  item: OrderItemSchema,
  lines: z.array(LineSchema).describe('the item priced now'),
  problem: z.object({ code: z.string(), message: z.string() }).nullable().describe('why the item cannot be ordered now (checkout would fail)'),
  createdBy: z.string().nullable(),
  createdAt: Timestamp,
});

export const CartSchema = z
  .object({ accountId: z.string(), items: z.array(CartItemSchema), total: Money.nullable(), currency: z.string().nullable() })
  .meta({ id: 'Cart' });

export const cartItemDto = (c: PricedCartItem) => ({ id: c.id, item: c.item, lines: c.lines.map(lineDto), problem: c.problem, createdBy: c.createdBy, createdAt: iso(c.createdAt) });
export const cartDto = (c: Cart) => ({ accountId: c.accountId, items: c.items.map(cartItemDto), total: c.currency ? formatMicros(c.totalMicros, c.currency) : null, currency: c.currency });
export const CartItemResponse = CartItemSchema.meta({ id: 'CartItem' });

export const PaymentBody = z
  .object({
    reference: z.string().trim().min(1).max(200).describe('the bank transfer or receipt reference of the offline payment'),
    amount: Money.optional().describe('when given, must equal the order total'),
    paidAt: z.iso.datetime({ offset: true }).optional().describe('when the money was received (default: now)'),
  })
  .strict();

export const paymentInput = (b: z.infer<typeof PaymentBody>) => ({
  reference: b.reference,
  ...(b.amount !== undefined ? { amountMicros: parseMicros(b.amount, 'amount') } : {}),
  ...(b.paidAt ? { paidAt: new Date(b.paidAt) } : {}),
});

export const toOrderItem = (i: z.infer<typeof OrderItemSchema>): OrderItem => i;

export const TermSchema = z
  .object({
    iccid: z.string(),
    accountId: z.string(),
    expiryDate: z.string().describe('last day of the prepaid term, in the account\'s time zone'),
    expiresAt: Timestamp,
    lastRenewalDate: z.string().describe('last day a renewal is accepted: the 22nd of the month after expiry'),
    cancelAt: Timestamp.describe('an expired SIM not renewed by then is cancelled (销卡)'),
    status: z.enum(['in_term', 'expired_renewable', 'cancel_due', 'cancelled']),
    remindedDays: z.array(z.number().int()).describe('expiry reminders already sent (days before expiry)'),
    stored: z.boolean().describe('false while the term is computed from the activation date and the plan only'),
  })
  .meta({ id: 'PrepaidTerm' });

export const termDto = (t: TermView) => ({ ...t, expiresAt: iso(t.expiresAt), cancelAt: iso(t.cancelAt) });

// --- invoices ----------------------------------------------------------------------------------------------------

const text = (max: number) => z.string().trim().min(1).max(max);

export const InvoiceRequestBody = z
  .object({
    orderIds: z.array(z.string().min(1).max(100)).min(1).max(200).describe('paid orders of one account, invoiced together'),
    type: z.enum(INVOICE_TYPES).default('ordinary').describe('ordinary: 电子普通发票 (electronic ordinary invoice); special_vat: 增值税专用发票'),
    title: text(200).describe('发票抬头'),
    taxId: z.string().max(20).describe('纳税人识别号'),
    address: text(300).optional().describe('单位地址 (required for special_vat)'),
    phone: text(40).optional().describe('电话号码 (required for special_vat)'),
    bankName: text(200).optional().describe('开户行 (required for special_vat)'),
    bankAccount: text(60).optional().describe('银行账号 (required for special_vat)'),
    email: z.string().max(200).optional().describe('where the electronic invoice is sent (required for ordinary)'),
  })
  .strict();

export const InvoiceSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    status: z.enum(INVOICE_STATUSES),
    type: z.enum(INVOICE_TYPES),
    title: z.string(),
    taxId: z.string(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    bankName: z.string().nullable(),
    bankAccount: z.string().nullable(),
    email: z.string().nullable(),
    orderIds: z.array(z.string()),
    amount: z.string().describe('sum of the orders, in the major unit'),
    currency: z.string(),
    number: z.string().nullable(),
    issuedOn: z.string().nullable(),
    rejectReason: z.string().nullable(),
    requestedBy: z.string().nullable(),
    requestedAt: Timestamp,
    decidedBy: z.string().nullable(),
    decidedAt: Timestamp.nullable(),
  })
  .meta({ id: 'InvoiceRequest' });

export const invoiceDto = (i: InvoiceRequest) => {
  const { amountMinor, ...rest } = i;
  return { ...rest, amount: formatMinor(amountMinor, i.currency), requestedAt: iso(i.requestedAt), decidedAt: isoOrNull(i.decidedAt) };
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, IdParam, limitSchema, page, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { ORDER_STATUSES } from './order.ts';
import { CartItemResponse, CartSchema, cartDto, cartItemDto, OrderItemSchema, OrderSchema, orderDto, PaymentBody, paymentInput, TermSchema, termDto, toOrderItem } from './order.schemas.ts';

const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });

export const orderRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['orders'];

    app.get('/cart', {
      schema: { tags, summary: "The cart of the caller's account, each item priced now", response: { 200: CartSchema, ...problems(401) } },
      handler: async (req) => cartDto(await s.orders.getCart(principalOf(req))),
    });
    app.post('/cart/items', {
      schema: {
        tags,
        summary: 'Add an item to the cart: a renewal of prepaid SIMs (续费), a top-up purchase (加油包) or a SIM order',
        description:
          'The item is checked and priced now: every SIM must be visible, a renewal must be within its window (until the 22nd of the month after expiry) and an ICCID is renewed at most once per cart (duplicate_renewal).',
        body: OrderItemSchema,
        response: { 201: CartItemResponse, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => reply.code(201).send(cartItemDto(await s.orders.addToCart(principalOf(req), toOrderItem(req.body)))),
    });
    app.delete('/cart/items/:id', {
      schema: { tags, summary: 'Remove an item from the cart', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.orders.removeFromCart(principalOf(req), req.params.id);
        return reply.code(204).send(null);
      },
    });
    app.delete('/cart', {
      schema: { tags, summary: 'Empty the cart', response: { 204: z.null(), ...problems(401, 403) } },
      handler: async (req, reply) => {
        await s.orders.clearCart(principalOf(req));
        return reply.code(204).send(null);
      },
    });
    app.post('/cart/checkout', {
      schema: {
        tags,
        summary: 'Turn the whole cart into one order awaiting payment (合并付款)',
        description: 'Every item is priced again from the catalogue; the cart is emptied.',
        response: { 201: OrderSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => reply.code(201).send(orderDto(await s.orders.checkout(principalOf(req)))),
    });

    app.post('/orders', {
      schema: {
        tags,
        summary: 'Place an order directly, without the cart',
        body: z.object({ items: z.array(OrderItemSchema).min(1).max(100) }).strict(),
        response: { 201: OrderSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => reply.code(201).send(orderDto(await s.orders.placeOrder(principalOf(req), req.body.items.map(toOrderItem)))),
    });
    app.get('/orders', {
      schema: {
        tags,
        summary: "Orders of the caller's account and the accounts below it, newest first",
        querystring: z.object({
          status: csvList(z.enum(ORDER_STATUSES)).optional().describe('comma-separated statuses'),
          accountId: z.string().max(100).optional(),
          iccid: z.string().regex(/^\d{19,20}$/).optional().describe('orders with a line for this SIM'),
          limit: limitSchema,
          cursor: cursorSchema,
        }),
        response: { 200: page(OrderSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const q = req.query;
        const r = await s.orders.listOrders(principalOf(req), { status: q.status, accountId: q.accountId, iccid: q.iccid, after: q.cursor, limit: q.limit });
        return { items: r.items.map(orderDto), nextCursor: r.nextCursor };
      },
    });
    app.get('/orders/:id', {
      schema: { tags, summary: 'An order with its lines, status history and payment', params: IdParam, response: { 200: OrderSchema, ...problems(401, 404) } },
      handler: async (req) => orderDto(await s.orders.getOrder(principalOf(req), req.params.id)),
    });
    app.post('/orders/:id/cancel', {
      schema: {
        tags,
        summary: 'Cancel an order awaiting payment',
        params: IdParam,
        body: z.object({ reason: z.string().max(500).optional() }).strict().nullish(),
        response: { 200: OrderSchema, ...problems(401, 403, 404, 409) },
      },
      handler: async (req) => orderDto(await s.orders.cancelOrder(principalOf(req), req.params.id, req.body?.reason)),
    });
    app.post('/orders/:id/payments', {
      schema: {
        tags,
        summary: 'Record the offline payment of an order (the seller: an account above the order, or the operator); the order is then fulfilled',
        description:
          'Fulfilment follows at once and happens once: renewals extend the SIM\'s prepaid expiry (a SIM suspended for expiry becomes active), top-ups are added (a quota suspension is lifted), SIM orders are recorded for shipping. Recording the same reference again answers 200 with the order unchanged; another reference for a paid order is 409 order_already_paid.',
        params: IdParam,
        body: PaymentBody,
        response: { 200: OrderSchema, 201: OrderSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        const { order, replayed } = await s.orders.recordPayment(principalOf(req), req.params.id, paymentInput(req.body));
        return reply.code(replayed ? 200 : 201).send(orderDto(order));
      },
    });

    app.get('/sims/:iccid/term', {
      schema: {
        tags,
        summary: "A prepaid SIM's term: expiry, last renewal day (the 22nd of the month after), cancellation, reminders sent",
        params: IccidParam,
        response: { 200: TermSchema, ...problems(400, 401, 404) },
      },
      handler: async (req) => termDto(await s.terms.getTerm(principalOf(req), req.params.iccid)),
    });
  };

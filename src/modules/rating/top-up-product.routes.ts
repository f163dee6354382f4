import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { Money } from './catalog.schemas.ts';
import { formatMicros, parseMicros } from './money.ts';
import { MAX_VALID_MONTHS, type TopUpProduct } from './top-up-product.ts';
import { MAX_TOP_UP_BYTES } from './top-up.service.ts';

const ProductSchema = z
  .object({
    id: z.string(),
    accountId: z.string().describe('the seller'),
    name: z.string(),
    bytes: z.number().int(),
    validMonths: z.number().int().describe('1: to the end of the cycle it is bought in; N: N months counting that one'),
    price: Money,
    currency: z.string(),
    active: z.boolean().describe('false: no longer sold'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'TopUpProduct' });

const dto = (p: TopUpProduct) => {
  const { priceMicros, ...rest } = p;
  return { ...rest, price: formatMicros(priceMicros, p.currency), createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) };
};

const terms = {
  name: z.string().trim().min(1).max(200),
  bytes: z.number().int().min(1).max(MAX_TOP_UP_BYTES),
  validMonths: z.number().int().min(1).max(MAX_VALID_MONTHS),
  price: Money,
};

export const topUpProductRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['plans'];
    app.get('/top-up-products', {
      schema: {
        tags,
        summary: 'Top-up products (加油包) visible to the caller: its own, those of the accounts above and below it',
        querystring: z.object({ accountId: z.string().max(100).optional(), active: z.enum(['true', 'false']).optional().describe('true: only products on sale'), limit: limitSchema, cursor: cursorSchema }),
        response: { 200: page(ProductSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const q = req.query;
        const items = await s.topUpProducts.listProducts(principalOf(req), { accountId: q.accountId, activeOnly: q.active === 'true', after: q.cursor, limit: q.limit });
        return { items: items.map(dto), nextCursor: nextIdCursor(items, q.limit) };
      },
    });
    app.post('/top-up-products', {
      schema: {
        tags,
        summary: "Create a top-up product sold by the caller's account (operator and reseller admins)",
        body: z.object({ id: z.string().min(1).max(64), ...terms, currency: z.string().max(3).optional().describe('ISO 4217 (default CNY)') }).strict(),
        response: { 201: ProductSchema, ...problems(400, 401, 403, 409) },
      },
      handler: async (req, reply) => {
        const { price, ...rest } = req.body;
        return reply.code(201).send(dto(await s.topUpProducts.createProduct(principalOf(req), { ...rest, priceMicros: parseMicros(price, 'price') })));
      },
    });
    app.get('/top-up-products/:id', {
      schema: { tags, summary: 'A top-up product', params: IdParam, response: { 200: ProductSchema, ...problems(401, 404) } },
      handler: async (req) => dto(await s.topUpProducts.getProduct(principalOf(req), req.params.id)),
    });
    app.patch('/top-up-products/:id', {
      schema: {
        tags,
        summary: "Change a top-up product's terms or take it off sale (its seller's admins); orders placed keep their price",
        params: IdParam,
        body: z.object({ name: terms.name.optional(), bytes: terms.bytes.optional(), validMonths: terms.validMonths.optional(), price: Money.optional(), active: z.boolean().optional() }).strict(),
        response: { 200: ProductSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => {
        const { price, ...rest } = req.body;
        return dto(await s.topUpProducts.updateProduct(principalOf(req), req.params.id, { ...rest, ...(price !== undefined ? { priceMicros: parseMicros(price, 'price') } : {}) }));
      },
    });
  };

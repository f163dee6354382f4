import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { formatMicros } from './money.ts';
import { MAX_TOP_UP_BYTES, type TopUpRecord } from './top-up.service.ts';

const IccidParam = z.object({ iccid: z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits') });

const TopUpSchema = z
  .object({
    id: z.string(),
    iccid: z.string(),
    accountId: z.string(),
    bytes: z.number().int(),
    expiresAt: z.string().describe('The top-up is usable before this instant'),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    productId: z.string().nullable().describe('the priced top-up product it was added from'),
    price: z.string().nullable().describe('its price (decimal, major unit); null: not priced'),
    currency: z.string().nullable(),
    paidByOrder: z.string().nullable().describe('the order that paid for it; a priced top-up without one is charged on the monthly bill'),
  })
  .meta({ id: 'TopUp' });

const dto = (t: TopUpRecord) => ({
  id: t.id,
  iccid: t.iccid,
  accountId: t.accountId,
  bytes: t.bytes,
  expiresAt: t.expiresAt.toISOString(),
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  productId: t.productId,
  price: t.priceMicros === null ? null : formatMicros(t.priceMicros, t.currency ?? undefined),
  currency: t.currency,
  paidByOrder: t.orderId,
});

export const topUpRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['plans'];
    app.post('/sims/:iccid/top-ups', {
      schema: {
        tags,
        summary: 'Add data to a SIM on a plan (加油包; operator and reseller admins)',
        description:
          'Valid to the end of the current billing cycle, or for validMonths months counting the current one. It is used after the included data (or the pool), earliest expiry first. A SIM suspended for quota becomes active again once the top-up gives it data. With productId, the data, validity and price are the top-up product\'s and the price is charged on the monthly bill of the SIM\'s account (a top-up line).',
        params: IccidParam,
        body: z
          .object({
            bytes: z.number().int().min(1).max(MAX_TOP_UP_BYTES).optional(),
            validMonths: z.number().int().min(1).max(120).optional(),
            productId: z.string().min(1).max(64).optional().describe('a priced top-up product: charged on the monthly bill'),
          })
          .strict(),
        response: { 201: TopUpSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => reply.code(201).send(dto(await s.topUps.addTopUp(principalOf(req), req.params.iccid, req.body))),
    });
    app.get('/sims/:iccid/top-ups', {
      schema: { tags, summary: "A SIM's top-ups, newest first", params: IccidParam, response: { 200: z.object({ items: z.array(TopUpSchema) }), ...problems(400, 401, 404) } },
      handler: async (req) => ({ items: (await s.topUps.listTopUps(principalOf(req), req.params.iccid)).map(dto) }),
    });
  };

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { IdParam, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';

const PoolSchema = z
  .object({
    planId: z.string().describe('the pooled plan'),
    cycle: z.string().describe("billing cycle (calendar month in the account's time zone), YYYY-MM"),
    members: z.number().int().describe('SIMs counted for the pool now'),
    sizeBytes: z.number().int().describe("the members' allowances, prorated by days from each one's join day, plus what members that left during the cycle brought"),
    usedBytes: z.number().int(),
    remainingBytes: z.number().int(),
  })
  .meta({ id: 'Pool' });

export const poolRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/accounts/:id/pools', {
      schema: {
        tags: ['plans'],
        summary: 'Live pool balances (流量池) of an account in its current billing cycle',
        description:
          "Each pooled plan with SIMs of the account on it, as the usage engine rates against it now: a SIM counts from its activation or the day it was put on the plan, prorated by days within the cycle; one that left keeps what it brought until the cycle ends.",
        params: IdParam,
        response: { 200: z.object({ items: z.array(PoolSchema) }), ...problems(401, 404) },
      },
      handler: async (req) => ({
        items: (await s.pools.listPools(principalOf(req), req.params.id)).map((p) => ({ ...p, usedBytes: p.sizeBytes - p.remainingBytes })),
      }),
    });
  };

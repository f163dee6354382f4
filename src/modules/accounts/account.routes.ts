import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { type Account, ACCOUNT_KINDS } from './account.ts';

const AccountSchema = z
  .object({
    id: z.string(),
    parentId: z.string().nullable(),
    kind: z.enum(ACCOUNT_KINDS),
    name: z.string(),
    timezone: z.string().describe('IANA time zone for billing cycles and timers'),
    createdAt: Timestamp,
  })
  .meta({ id: 'Account' });

const toDto = (a: Account) => ({ id: a.id, parentId: a.parentId, kind: a.kind, name: a.name, timezone: a.timezone, createdAt: iso(a.createdAt) });
const tags = ['accounts'];

export const accountRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/accounts', {
      schema: {
        tags,
        summary: "List the caller's account and its descendants",
        querystring: z.object({ parentId: z.string().optional(), kind: z.enum(ACCOUNT_KINDS).optional(), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(AccountSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, ...filter } = req.query;
        const items = await s.accounts.listAccounts(principalOf(req), { ...filter, after: cursor, limit });
        return { items: items.map(toDto), nextCursor: nextIdCursor(items, limit) };
      },
    });

    app.post('/accounts', {
      schema: {
        tags,
        summary: 'Create a reseller or enterprise account under the caller (or under parentId)',
        body: z.object({
          parentId: z.string().optional(),
          kind: z.enum(['reseller', 'enterprise']),
          name: z.string().trim().min(1).max(200),
          timezone: z.string().optional().describe('default: the parent account\'s'),
        }),
        response: { 201: AccountSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return toDto(await s.accounts.createAccount(principalOf(req), req.body));
      },
    });

    app.get('/accounts/:id', {
      schema: { tags, summary: 'One account', params: IdParam, response: { 200: AccountSchema, ...problems(401, 404) } },
      handler: async (req) => toDto(await s.accounts.getAccount(principalOf(req), req.params.id)),
    });

    app.patch('/accounts/:id', {
      schema: {
        tags,
        summary: 'Rename an account or change its time zone',
        params: IdParam,
        body: z.object({ name: z.string().trim().min(1).max(200).optional(), timezone: z.string().optional() }),
        response: { 200: AccountSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => toDto(await s.accounts.updateAccount(principalOf(req), req.params.id, req.body)),
    });

    app.delete('/accounts/:id', {
      schema: { tags, summary: 'Delete an account that has no child accounts and no SIMs', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404, 409) } },
      handler: async (req, reply) => {
        await s.accounts.deleteAccount(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });
  };

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf, SESSION_COOKIE } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, isoOrNull, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { ACCOUNT_KINDS, ROLES } from '../accounts/account.ts';
import type { ApiKey, User } from './auth.repository.ts';

const UserSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    disabled: z.boolean(),
    createdAt: Timestamp,
  })
  .meta({ id: 'User' });
const ApiKeySchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string().describe('first characters of the secret, to recognise it'),
    createdBy: z.string().nullable(),
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'ApiKey' });

const userDto = (u: User) => ({ ...u, createdAt: iso(u.createdAt) });
const keyDto = (k: ApiKey) => ({
  ...k,
  expiresAt: isoOrNull(k.expiresAt),
  revokedAt: isoOrNull(k.revokedAt),
  lastUsedAt: isoOrNull(k.lastUsedAt),
  createdAt: iso(k.createdAt),
});
const password = z.string().min(12, 'must be at least 12 characters').max(200);
const listQuery = z.object({ accountId: z.string().optional(), cursor: cursorSchema, limit: limitSchema });

export const authRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/auth/login', {
      schema: {
        tags: ['auth'],
        summary: 'Log in with e-mail and password; sets the session cookie and returns the token',
        security: [],
        body: z.object({ email: z.string().min(3).max(200), password: z.string().min(1).max(200) }),
        response: { 200: z.object({ user: UserSchema, token: z.string(), expiresAt: Timestamp }), ...problems(400, 401, 429) },
      },
      handler: async (req, reply) => {
        const { token, user, expiresAt } = await s.auth.login(req.body.email, req.body.password, req.ip);
        reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', expires: expiresAt });
        return { user: userDto(user), token, expiresAt: iso(expiresAt) };
      },
    });
    app.post('/auth/logout', {
      schema: { tags: ['auth'], summary: 'End the login session', response: { 204: z.null(), ...problems(401) } },
      handler: async (req, reply) => {
        const token = req.cookies[SESSION_COOKIE] ?? req.headers.authorization?.slice(7);
        if (token) await s.auth.logout(token);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.status(204).send(null);
      },
    });
    app.get('/auth/me', {
      schema: {
        tags: ['auth'],
        summary: 'Who the caller is',
        response: {
          200: z.object({ actor: z.string(), accountId: z.string(), accountKind: z.enum(ACCOUNT_KINDS), role: z.enum(ROLES), source: z.enum(['web', 'api']) }),
          ...problems(401),
        },
      },
      handler: async (req) => {
        const { accountPath: _, ...p } = principalOf(req);
        return p;
      },
    });

    const users = ['users'];
    app.get('/users', {
      schema: { tags: users, summary: 'List users visible to the caller', querystring: listQuery, response: { 200: page(UserSchema), ...problems(400, 401) } },
      handler: async (req) => {
        const { cursor, limit, accountId } = req.query;
        const items = await s.auth.listUsers(principalOf(req), { accountId, after: cursor, limit });
        return { items: items.map(userDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/users', {
      schema: {
        tags: users,
        summary: 'Create a user in the caller\'s account or a descendant',
        body: z.object({ accountId: z.string().optional(), email: z.email(), name: z.string().trim().min(1).max(200), role: z.enum(ROLES), password }),
        response: { 201: UserSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return userDto(await s.auth.createUser(principalOf(req), req.body));
      },
    });
    app.get('/users/:id', {
      schema: { tags: users, summary: 'One user', params: IdParam, response: { 200: UserSchema, ...problems(401, 404) } },
      handler: async (req) => userDto(await s.auth.getUser(principalOf(req), req.params.id)),
    });
    app.patch('/users/:id', {
      schema: {
        tags: users,
        summary: 'Change a user\'s name, role, password or disable it',
        params: IdParam,
        body: z.object({ name: z.string().trim().min(1).max(200).optional(), role: z.enum(ROLES).optional(), disabled: z.boolean().optional(), password: password.optional() }),
        response: { 200: UserSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req) => userDto(await s.auth.updateUser(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/users/:id', {
      schema: { tags: users, summary: 'Delete a user', params: IdParam, response: { 204: z.null(), ...problems(400, 401, 403, 404) } },
      handler: async (req, reply) => {
        await s.auth.deleteUser(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });

    const keys = ['api-keys'];
    app.get('/api-keys', {
      schema: { tags: keys, summary: 'List API keys (never their secrets)', querystring: listQuery, response: { 200: page(ApiKeySchema), ...problems(400, 401) } },
      handler: async (req) => {
        const { cursor, limit, accountId } = req.query;
        const items = await s.auth.listApiKeys(principalOf(req), { accountId, after: cursor, limit });
        return { items: items.map(keyDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/api-keys', {
      schema: {
        tags: keys,
        summary: 'Create an API key; the secret is in this response only',
        body: z.object({
          accountId: z.string().optional(),
          name: z.string().trim().min(1).max(200),
          role: z.enum(ROLES).optional().describe('default: the admin role of the account kind'),
          expiresAt: Timestamp.optional(),
        }),
        response: { 201: ApiKeySchema.extend({ secret: z.string() }), ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => {
        const { apiKey, secret } = await s.auth.createApiKey(principalOf(req), {
          ...req.body,
          expiresAt: req.body.expiresAt ? new Date(req.body.expiresAt) : undefined,
        });
        reply.status(201);
        return { ...keyDto(apiKey), secret };
      },
    });
    app.get('/api-keys/:id', {
      schema: { tags: keys, summary: 'One API key', params: IdParam, response: { 200: ApiKeySchema, ...problems(401, 404) } },
      handler: async (req) => keyDto(await s.auth.getApiKey(principalOf(req), req.params.id)),
    });
    app.post('/api-keys/:id/revoke', {
      schema: { tags: keys, summary: 'Revoke an API key at once', params: IdParam, response: { 200: ApiKeySchema, ...problems(401, 403, 404) } },
      handler: async (req) => keyDto(await s.auth.revokeApiKey(principalOf(req), req.params.id)),
    });
    app.delete('/api-keys/:id', {
      schema: { tags: keys, summary: 'Revoke an API key (kept for the audit trail)', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.auth.revokeApiKey(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });
  };

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { cursorSchema, IdParam, iso, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { Group } from './group.repository.ts';

const GroupSchema = z
  .object({ id: z.string(), accountId: z.string(), name: z.string(), description: z.string().nullable(), createdAt: Timestamp })
  .meta({ id: 'Group' });
const toDto = (g: Group) => ({ ...g, createdAt: iso(g.createdAt) });
const tags = ['groups'];

export const groupRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/groups', {
      schema: {
        tags,
        summary: 'List SIM groups (分组) visible to the caller',
        querystring: z.object({ accountId: z.string().optional(), name: z.string().max(100).optional().describe('exact group name'), cursor: cursorSchema, limit: limitSchema }),
        response: { 200: page(GroupSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const { cursor, limit, accountId, name } = req.query;
        const items = await s.groups.listGroups(principalOf(req), { accountId, name, after: cursor, limit });
        return { items: items.map(toDto), nextCursor: nextIdCursor(items, limit) };
      },
    });
    app.post('/groups', {
      schema: {
        tags,
        summary: 'Create a group in the caller\'s account (or accountId)',
        body: z.object({ accountId: z.string().optional(), name: z.string().trim().min(1).max(100), description: z.string().max(500).optional() }),
        response: { 201: GroupSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        reply.status(201);
        return toDto(await s.groups.createGroup(principalOf(req), req.body));
      },
    });
    app.get('/groups/:id', {
      schema: { tags, summary: 'One group', params: IdParam, response: { 200: GroupSchema, ...problems(401, 404) } },
      handler: async (req) => toDto(await s.groups.getGroup(principalOf(req), req.params.id)),
    });
    app.patch('/groups/:id', {
      schema: {
        tags,
        summary: 'Rename a group or change its description',
        params: IdParam,
        body: z.object({ name: z.string().trim().min(1).max(100).optional(), description: z.string().max(500).nullable().optional() }),
        response: { 200: GroupSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => toDto(await s.groups.updateGroup(principalOf(req), req.params.id, req.body)),
    });
    app.delete('/groups/:id', {
      schema: { tags, summary: 'Delete a group; its SIMs are left without a group', params: IdParam, response: { 204: z.null(), ...problems(401, 403, 404) } },
      handler: async (req, reply) => {
        await s.groups.deleteGroup(principalOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    });
  };

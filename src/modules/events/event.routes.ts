import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, limitSchema, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { SUBJECT_KINDS } from './event.ts';
import { eventDto, EventSchema, EventTypePattern } from './event.schemas.ts';

const tags = ['events'];

export const eventRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/events', {
      schema: {
        tags,
        summary: "Events of the caller's account and the accounts below it",
        description: 'Newest first by default; `order=asc` reads oldest first, for a consumer that follows the outbox with the cursor.',
        querystring: z.object({
          type: csvList(EventTypePattern).optional().describe('event types or patterns (sim.*), comma-separated'),
          subjectKind: z.enum(SUBJECT_KINDS).optional(),
          subjectId: z.string().max(100).optional().describe('e.g. an ICCID with subjectKind=sim'),
          accountId: z.string().max(100).optional().describe('only events of this account'),
          from: Timestamp.optional().describe('events that occurred at or after this time'),
          to: Timestamp.optional().describe('events that occurred before this time'),
          order: z.enum(['asc', 'desc']).default('desc'),
          cursor: cursorSchema,
          limit: limitSchema,
        }),
        response: { 200: page(EventSchema), ...problems(400, 401, 404) },
      },
      handler: async (req) => {
        const q = req.query;
        const result = await s.events.listEvents(principalOf(req), {
          types: q.type,
          subjectKind: q.subjectKind,
          subjectId: q.subjectId,
          accountId: q.accountId,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
          order: q.order,
          cursor: q.cursor,
          limit: q.limit,
        });
        return { items: result.items.map(eventDto), nextCursor: result.nextCursor };
      },
    });
    app.get('/events/:id', {
      schema: { tags, summary: 'One event', params: z.object({ id: z.string().min(1).max(100) }), response: { 200: EventSchema, ...problems(401, 404) } },
      handler: async (req) => eventDto(await s.events.getEvent(principalOf(req), req.params.id)),
    });
  };

import { z } from 'zod';
import { iso, Timestamp } from '../../http/schemas.ts';
import { SUBJECT_KINDS, type StoredEvent } from './event.ts';

export const EventSchema = z
  .object({
    id: z.string().describe('stable event id (evt_…); webhook receivers deduplicate by it'),
    sequence: z.number().int().describe('position in the outbox: higher was written later'),
    type: z.string().describe('event type, see docs/events.md'),
    accountId: z.string(),
    subject: z.object({ kind: z.enum(SUBJECT_KINDS), id: z.string() }),
    data: z.record(z.string(), z.unknown()).describe('payload of the type, as documented in the event catalogue'),
    occurredAt: Timestamp,
  })
  .meta({ id: 'Event' });

export const eventDto = (e: StoredEvent) => ({
  id: e.id,
  sequence: e.sequence,
  type: e.type,
  accountId: e.accountId,
  subject: e.subject,
  data: e.data,
  occurredAt: iso(e.occurredAt),
});

/** An event type or a pattern: `sim.state_changed`, `sim.*`, `*`. */
export const EventTypePattern = z
  .string()
  .max(100)
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, 'must be an event type such as sim.state_changed, a prefix pattern such as sim.*, or *');

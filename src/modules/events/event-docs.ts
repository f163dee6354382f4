/** The event catalogue as a Markdown page (docs/events.md), generated so the page and the code cannot disagree. */
import { z } from 'zod';
import { eventCatalog, type EventDefinition } from './event-catalog.ts';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  additionalProperties?: unknown;
}

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.enum) return s.enum.map((v) => (v === null ? 'null' : `\`${JSON.stringify(v).replace(/^"|"$/g, '')}\``)).join(', ');
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'integer') return 'integer';
  return s.type ?? 'any';
}

function rows(schema: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const nullable = prop.anyOf?.some((p) => p.type === 'null') ?? false;
    const core = nullable ? { ...prop, anyOf: prop.anyOf!.filter((p) => p.type !== 'null') } : prop;
    const inner = core.anyOf?.length === 1 ? { ...core.anyOf[0], description: core.description } : core;
    const type = `${typeOf(inner)}${nullable ? ', nullable' : ''}`;
    const description = (prop.description ?? inner.description ?? '').replaceAll('|', '\\|');
    out.push(`| \`${prefix}${name}\` | ${type.replaceAll('|', '\\|')} | ${description} |`);
    if (inner.type === 'object' && inner.properties) out.push(...rows(inner, `${prefix}${name}.`));
    if (inner.type === 'array' && inner.items?.properties) out.push(...rows(inner.items, `${prefix}${name}[].`));
  }
  return out;
}

function section(type: string, d: EventDefinition): string {
  const schema = z.toJSONSchema(d.schema, { io: 'output' }) as JsonSchema;
  return [`### \`${type}\``, '', d.description, '', `Subject: \`${d.subject}\`.`, '', '| field | type | meaning |', '|---|---|---|', ...rows(schema), ''].join('\n');
}

/** The whole page. */
export function renderEventDocs(): string {
  const entries = Object.entries(eventCatalog as Record<string, EventDefinition>).sort(([a], [b]) => a.localeCompare(b));
  return [
    '# Events',
    '',
    '<!-- Generated from src/modules/events/event-catalog.ts by `npm run events-doc`; do not edit by hand. -->',
    '',
    'Every change Meridian reports is written as an event to the outbox (the `events` table) in the same',
    'transaction as the change itself: an event exists exactly when its change was committed. Events are read',
    'with `GET /api/v1/events` (or `meridian events list`) within the caller\'s account and the accounts below it.',
    '',
    'Each event has:',
    '',
    '| field | meaning |',
    '|---|---|',
    '| `id` | stable id (`evt_…`); the same in every delivery of the event, so receivers can deduplicate by it |',
    '| `sequence` | position in the outbox; a higher sequence was written later |',
    '| `type` | one of the types below |',
    '| `accountId` | the account of the subject |',
    '| `subject` | `{kind, id}`: what the event is about (a SIM by ICCID, an alert, a webhook endpoint…) |',
    '| `data` | the payload of the type |',
    '| `occurredAt` | when the change was committed |',
    '',
    '## Types',
    '',
    ...entries.map(([type]) => `- [\`${type}\`](#${type.replaceAll('.', '')}): ${(eventCatalog as Record<string, EventDefinition>)[type]!.description}`),
    '',
    ...entries.map(([type, d]) => section(type, d)),
  ].join('\n');
}

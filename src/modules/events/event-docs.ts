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
    '## Webhooks',
    '',
    'A webhook endpoint (`POST /api/v1/webhooks`, `meridian webhooks add`) receives, as HTTP POST requests, the events of',
    'its own account and of every account below it whose type matches one of its `eventTypes` (`sim.state_changed`,',
    '`sim.*` for every type under `sim.`, `*` for all). A reseller\'s endpoint therefore also gets its customers\' events; a',
    'customer\'s endpoint never gets its reseller\'s or another customer\'s.',
    '',
    '### The request',
    '',
    'The body is a [CloudEvents 1.0](https://github.com/cloudevents/spec) structured-mode JSON document,',
    '`Content-Type: application/cloudevents+json; charset=utf-8`:',
    '',
    '```json',
    '{',
    '  "specversion": "1.0",',
    '  "id": "evt_0mx4z1b2c3d4e5f60718293a4b",',
    '  "type": "sim.state_changed",',
    '  "source": "/accounts/acc_0mx4yz9y8x7w6v5u4",',
    '  "subject": "sim/89860012345678901234",',
    '  "time": "2026-03-01T08:00:00.000Z",',
    '  "datacontenttype": "application/json",',
    '  "sequence": "1234",',
    '  "accountid": "acc_0mx4yz9y8x7w6v5u4",',
    '  "data": { "iccid": "89860012345678901234", "from": "active", "to": "suspended", "suspendReason": "quota", "...": "..." }',
    '}',
    '```',
    '',
    'Headers:',
    '',
    '| header | meaning |',
    '|---|---|',
    '| `Meridian-Signature` | `t=<unix seconds>,v1=<hex>`: HMAC-SHA256 with the endpoint\'s secret over `<t>.<raw body>` |',
    '| `Meridian-Event-Id` | the event id, as in the body |',
    '| `Meridian-Event-Type` | the event type |',
    '| `Meridian-Delivery-Id` | the delivery (one per event and endpoint; a replay is a new delivery) |',
    '| `Meridian-Attempt` | 1 for the first attempt of the delivery, 2 for the first retry, … |',
    '',
    'Answer with any 2xx status within `WEBHOOK_TIMEOUT_MS` (10 s by default) to acknowledge. Anything else (another',
    'status, a redirect, a refused connection, no answer in time) is a failed attempt.',
    '',
    '### Verifying the signature',
    '',
    'The secret (`whsec_…`) is shown once, when the endpoint is created or its secret replaced',
    '(`POST /api/v1/webhooks/{id}/secret`). Compute the HMAC over the raw body exactly as received, before parsing it,',
    'compare in constant time, and refuse a timestamp more than a few minutes from your clock (replayed requests):',
    '',
    '```js',
    "import { createHmac, timingSafeEqual } from 'node:crypto';",
    "import { createServer } from 'node:http';",
    '',
    'const secret = process.env.MERIDIAN_WEBHOOK_SECRET; // whsec_…',
    '',
    'function verify(header, rawBody, toleranceSeconds = 300) {',
    "  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2)));",
    '  const t = Number(parts.t);',
    '  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;',
    "  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();",
    "  const given = Buffer.from(parts.v1, 'hex');",
    '  return given.length === expected.length && timingSafeEqual(given, expected);',
    '}',
    '',
    'const seen = new Set(); // use your database in production: deliveries are at least once',
    'createServer((req, res) => {',
    '  const chunks = [];',
    "  req.on('data', (c) => chunks.push(c));",
    "  req.on('end', () => {",
    "    const body = Buffer.concat(chunks).toString('utf8');",
    "    if (!verify(req.headers['meridian-signature'], body)) return res.writeHead(401).end();",
    '    const event = JSON.parse(body);',
    '    if (!seen.has(event.id)) {',
    '      seen.add(event.id);',
    '      console.log(event.type, event.subject, event.data);',
    '    }',
    '    res.writeHead(204).end();',
    '  });',
    '}).listen(3000);',
    '```',
    '',
    '### Delivery, retries and pausing',
    '',
    '- **At least once.** An event is delivered after its change was committed, never for a change that was rolled',
    '  back. A crash or a lost answer can bring the same event twice: deduplicate by `id`. Deliveries to one endpoint',
    '  run concurrently and are retried independently, so events can arrive out of order; `sequence` orders them.',
    '- **Retries.** A failed attempt is tried again after a wait drawn at random between 1 s and',
    '  min(`WEBHOOK_RETRY_MAX_MS`, `WEBHOOK_RETRY_BASE_MS` × 2^(attempt − 1)) (exponential backoff with full jitter;',
    '  30 s and 1 h by default). A delivery not delivered within `WEBHOOK_RETRY_WINDOW_HOURS` (24) of its creation is',
    '  `failed`.',
    '- **Pausing.** An endpoint whose last `WEBHOOK_PAUSE_AFTER_FAILURES` (20) or more attempts all failed, the first',
    '  of them at least `WEBHOOK_PAUSE_AFTER_MINUTES` (60) ago, is paused: its account gets an alert of type',
    '  `webhook_endpoint_paused` and the event `webhook.endpoint_paused`, and the enabled admin users of the account get',
    '  the `webhook_paused` e-mail, once per pause. A paused endpoint is sent nothing and gets no new deliveries. Resume',
    '  it with `PATCH /api/v1/webhooks/{id}` `{"state":"enabled"}` (`meridian webhooks update ID --resume`): its',
    '  pending deliveries go out again; replay what happened while it was paused.',
    '- **Targets.** An endpoint URL is `http://` or `https://` and names a public host: loopback, link-local, private',
    '  and carrier-grade NAT addresses and `localhost` are refused unless the operator sets `WEBHOOK_ALLOW_PRIVATE=true`.',
    '- **The log.** `GET /api/v1/webhooks/{id}/deliveries` lists the deliveries (pending, delivered, failed), and',
    '  `…/deliveries/{deliveryId}` every attempt with its time, duration, status code and error.',
    '- **Replay.** `POST /api/v1/webhooks/{id}/replay` with `{"eventId":"evt_…"}` sends one event again, or with',
    '  `{"from":"…","to":"…"}` every event of the range that matches the endpoint\'s types (at most 100,000), as new',
    '  deliveries with the same event ids.',
    '',
    '## Types',
    '',
    ...entries.map(([type]) => `- [\`${type}\`](#${type.replaceAll('.', '')}): ${(eventCatalog as Record<string, EventDefinition>)[type]!.description}`),
    '',
    ...entries.map(([type, d]) => section(type, d)),
  ].join('\n');
}

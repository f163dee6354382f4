import { type Selectable, sql } from 'kysely';
import type { Executor, WebhookDeliveryTable, WebhookEndpointTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { isRootPath } from '../accounts/account.ts';
import type { StoredEvent, SubjectKind } from '../events/event.ts';
import type { Delivery, DeliveryAttempt, DeliveryState, EndpointState, WebhookEndpoint } from './webhook.ts';

const toEndpoint = (r: Selectable<WebhookEndpointTable>): WebhookEndpoint => ({
  id: r.id,
  accountId: r.account_id,
  url: r.url,
  description: r.description,
  eventTypes: r.event_types,
  secret: r.secret,
  state: r.state as EndpointState,
  pausedReason: r.paused_reason,
  pausedAt: r.paused_at,
  consecutiveFailures: r.consecutive_failures,
  failingSince: r.failing_since,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDelivery = (r: Selectable<WebhookDeliveryTable>): Delivery => ({
  id: Number(r.id),
  endpointId: r.endpoint_id,
  accountId: r.account_id,
  eventId: r.event_id,
  eventType: r.event_type,
  replay: r.replay,
  state: r.state as DeliveryState,
  attempts: r.attempts,
  nextAttemptAt: r.state === 'pending' ? r.next_attempt_at : null,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

// --- endpoints -------------------------------------------------------------------------------

export async function insertEndpoint(db: Executor, e: WebhookEndpoint): Promise<WebhookEndpoint> {
  const row = await db
    .insertInto('webhook_endpoints')
    .values({
      id: e.id,
      account_id: e.accountId,
      url: e.url,
      description: e.description,
      event_types: e.eventTypes,
      secret: e.secret,
      state: e.state,
      created_at: e.createdAt,
      updated_at: e.updatedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEndpoint(row);
}

export async function countEndpoints(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The endpoint with this id if its account lies under `scopePath`. */
export async function findEndpoint(db: Executor, id: string, scopePath: string): Promise<WebhookEndpoint | undefined> {
  let q = db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  if (!isRootPath(scopePath)) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  const row = await q.executeTakeFirst();
  return row && toEndpoint(row);
}

export async function listEndpoints(db: Executor, scopePath: string, filter: { accountId?: string; after?: string; limit: number }): Promise<WebhookEndpoint[]> {
  let q = db.selectFrom('webhook_endpoints').selectAll();
  if (!isRootPath(scopePath)) q = q.where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.after) q = q.where('id', '>', filter.after);
  const rows = await q.orderBy('id').limit(filter.limit).execute();
  return rows.map(toEndpoint);
}

export async function updateEndpoint(
  db: Executor,
  id: string,
  patch: Partial<Pick<WebhookEndpoint, 'url' | 'description' | 'eventTypes' | 'secret'>> & { state?: EndpointState },
  at: Date,
): Promise<WebhookEndpoint> {
  const resume = patch.state === 'enabled' ? { paused_reason: null, paused_at: null, consecutive_failures: 0, failing_since: null } : {};
  const pause = patch.state === 'paused' ? { paused_reason: 'paused by a user', paused_at: at } : {};
  const row = await db
    .updateTable('webhook_endpoints')
    .set({
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.eventTypes !== undefined ? { event_types: patch.eventTypes } : {}),
      ...(patch.secret !== undefined ? { secret: patch.secret } : {}),
      ...(patch.state !== undefined ? { state: patch.state } : {}),
      ...resume,
      ...pause,
      updated_at: at,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEndpoint(row);
}

export async function deleteEndpoint(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

// --- fan-out ---------------------------------------------------------------------------------

/** An event taken for fan-out, with the materialised path of its account (null when the account is gone). */
export interface FanOutEvent {
  sequence: number;
  id: string;
  type: string;
  path: string | null;
}

/**
 * Takes up to `limit` events not yet fanned out, oldest first, off the fan-out queue. Run it in the transaction that
 * inserts their deliveries.
 */
export async function claimUndispatchedEvents(db: Executor, limit: number): Promise<FanOutEvent[]> {
  // NOTE: SKIP LOCKED lets a second dispatcher (another process on PostgreSQL) take the next events instead of
  // waiting; an event of a transaction not yet committed is invisible here and is taken once it commits.
  const rows = await sql<{ sequence: string | number; id: string; type: string; path: string | null }>`
    WITH claimed AS (
      DELETE FROM event_dispatch_queue
      WHERE sequence = any(ARRAY(SELECT sequence FROM event_dispatch_queue ORDER BY sequence LIMIT ${limit} FOR UPDATE SKIP LOCKED))
      RETURNING sequence
    )
    SELECT e.sequence, e.id, e.type, a.path
    FROM claimed c JOIN events e ON e.sequence = c.sequence LEFT JOIN accounts a ON a.id = e.account_id
    ORDER BY e.sequence`.execute(db);
  return rows.rows.map((r) => ({ sequence: Number(r.sequence), id: r.id, type: r.type, path: r.path }));
}

/** Enabled endpoints with their account's path: the receivers of a fan-out. */
export async function enabledEndpoints(db: Executor): Promise<{ id: string; accountId: string; eventTypes: string[]; path: string }[]> {
  const rows = await db
    .selectFrom('webhook_endpoints as w')
    .innerJoin('accounts as a', 'a.id', 'w.account_id')
    .select(['w.id', 'w.account_id', 'w.event_types', 'a.path'])
    .where('w.state', '=', 'enabled')
    .execute();
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, eventTypes: r.event_types, path: r.path }));
}

export interface NewDelivery {
  endpointId: string;
  accountId: string;
  eventSequence: number;
  eventId: string;
  eventType: string;
  replay: boolean;
}

/** Inserts deliveries due at once, in one statement. */
export async function insertDeliveries(db: Executor, deliveries: NewDelivery[], at: Date): Promise<void> {
  if (deliveries.length === 0) return;
  const col = <T>(f: (d: NewDelivery) => T) => deliveries.map(f);
  await sql`
    INSERT INTO webhook_deliveries (endpoint_id, account_id, event_sequence, event_id, event_type, replay, next_attempt_at, created_at)
    SELECT u.endpoint_id, u.account_id, u.event_sequence, u.event_id, u.event_type, u.replay, ${at}::timestamptz, ${at}::timestamptz
    FROM unnest(${col((d) => d.endpointId)}::text[], ${col((d) => d.accountId)}::text[], ${col((d) => d.eventSequence)}::bigint[],
      ${col((d) => d.eventId)}::text[], ${col((d) => d.eventType)}::text[], ${col((d) => d.replay)}::boolean[])
      AS u(endpoint_id, account_id, event_sequence, event_id, event_type, replay)`.execute(db);
}

// --- delivery --------------------------------------------------------------------------------

/** A delivery taken for an attempt, with what the request needs. */
export interface ClaimedDelivery {
  id: number;
  endpointId: string;
  attempts: number;
  createdAt: Date;
  url: string;
  secret: string;
  event: StoredEvent;
}

/**
 * Takes up to `limit` pending deliveries that are due, to enabled endpoints, and leases them until `leaseUntil`
 * (their next_attempt_at): a process that dies during the attempt leaves them due again once the lease ends.
 */
export async function claimDueDeliveries(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const rows = await sql<{
    id: string | number;
    endpoint_id: string;
    attempts: number;
    created_at: Date;
    url: string;
    secret: string;
    event_id: string;
    sequence: string | number;
    type: string;
    account_id: string;
    subject_kind: string;
    subject_id: string;
    data: Record<string, unknown>;
    occurred_at: Date;
  }>`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.state = 'enabled'
      WHERE d.state = 'pending' AND d.next_attempt_at <= ${now}
      ORDER BY d.next_attempt_at, d.id LIMIT ${limit} FOR UPDATE OF d SKIP LOCKED
    ), claimed AS (
      UPDATE webhook_deliveries d SET next_attempt_at = ${leaseUntil} FROM due WHERE d.id = due.id
      RETURNING d.id, d.endpoint_id, d.attempts, d.created_at, d.event_sequence
    )
    SELECT c.id, c.endpoint_id, c.attempts, c.created_at, w.url, w.secret, e.id AS event_id, e.sequence, e.type, e.account_id,
      e.subject_kind, e.subject_id, e.data, e.occurred_at
    FROM claimed c JOIN webhook_endpoints w ON w.id = c.endpoint_id JOIN events e ON e.sequence = c.event_sequence
    ORDER BY c.id`.execute(db);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    endpointId: r.endpoint_id,
    attempts: r.attempts,
    createdAt: r.created_at,
    url: r.url,
    secret: r.secret,
    event: {
      id: r.event_id,
      sequence: Number(r.sequence),
      type: r.type,
      accountId: r.account_id,
      subject: { kind: r.subject_kind as SubjectKind, id: r.subject_id },
      data: r.data,
      occurredAt: r.occurred_at,
    },
  }));
}

/** The outcome of one attempt, and what becomes of its delivery. */
export interface AttemptOutcome {
  deliveryId: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  ok: boolean;
  state: DeliveryState;
  nextAttemptAt: Date | null;
  finishedAt: Date | null;
}

/** Writes attempts and their deliveries' new state, in two statements. */
export async function recordAttempts(db: Executor, outcomes: AttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const col = <T>(f: (o: AttemptOutcome) => T) => outcomes.map(f);
  await sql`
    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, ok)
    SELECT * FROM unnest(${col((o) => o.deliveryId)}::bigint[], ${col((o) => o.attempt)}::int[], ${col((o) => o.startedAt)}::timestamptz[],
      ${col((o) => o.durationMs)}::int[], ${col((o) => o.statusCode)}::int[], ${col((o) => o.error)}::text[], ${col((o) => o.ok)}::boolean[])
    ON CONFLICT DO NOTHING`.execute(db);
  await sql`
    UPDATE webhook_deliveries d SET state = u.state, attempts = u.attempt, next_attempt_at = u.next_attempt_at,
      last_status_code = u.status_code, last_error = u.error, finished_at = u.finished_at
    FROM unnest(${col((o) => o.deliveryId)}::bigint[], ${col((o) => o.state)}::text[], ${col((o) => o.attempt)}::int[],
      ${col((o) => o.nextAttemptAt)}::timestamptz[], ${col((o) => o.statusCode)}::int[], ${col((o) => o.error)}::text[],
      ${col((o) => o.finishedAt)}::timestamptz[]) AS u(id, state, attempt, next_attempt_at, status_code, error, finished_at)
    WHERE d.id = u.id AND d.state = 'pending'`.execute(db);
}

/** How a batch of attempts changes an endpoint's run of failures. */
export interface EndpointHealth {
  endpointId: string;
  /** A success in the batch ends the run; `failures` then counts the failures after the last success. */
  reset: boolean;
  failures: number;
  firstFailureAt: Date | null;
  lastError: string | null;
}

/** Updates the failure runs of endpoints; returns the endpoints that now have a run, with their figures. */
export async function updateEndpointHealth(
  db: Executor,
  health: EndpointHealth[],
): Promise<{ id: string; accountId: string; url: string; consecutiveFailures: number; failingSince: Date | null; state: string }[]> {
  if (health.length === 0) return [];
  const col = <T>(f: (h: EndpointHealth) => T) => health.map(f);
  const rows = await sql<{ id: string; account_id: string; url: string; consecutive_failures: number; failing_since: Date | null; state: string }>`
    UPDATE webhook_endpoints w SET
      consecutive_failures = CASE WHEN u.reset THEN u.failures ELSE w.consecutive_failures + u.failures END,
      failing_since = CASE WHEN u.failures = 0 THEN NULL WHEN u.reset THEN u.first_failure_at ELSE coalesce(w.failing_since, u.first_failure_at) END
    FROM unnest(${col((h) => h.endpointId)}::text[], ${col((h) => h.reset)}::boolean[], ${col((h) => h.failures)}::int[],
      ${col((h) => h.firstFailureAt)}::timestamptz[]) AS u(id, reset, failures, first_failure_at)
    WHERE w.id = u.id
    RETURNING w.id, w.account_id, w.url, w.consecutive_failures, w.failing_since, w.state`.execute(db);
  return rows.rows.map((r) => ({ id: r.id, accountId: r.account_id, url: r.url, consecutiveFailures: r.consecutive_failures, failingSince: r.failing_since, state: r.state }));
}

/** Pauses enabled endpoints; returns the ids it paused (not those already paused). */
export async function pauseEndpoints(db: Executor, ids: string[], reason: string, at: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('webhook_endpoints')
    .set({ state: 'paused', paused_reason: reason, paused_at: at, updated_at: at })
    .where('id', '=', sql<string>`any(${ids}::text[])`)
    .where('state', '=', 'enabled')
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

// --- delivery log and replay -----------------------------------------------------------------

export async function listDeliveries(
  db: Executor,
  endpointId: string,
  filter: { states?: DeliveryState[]; eventId?: string; before?: number; limit: number },
): Promise<Delivery[]> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (filter.states?.length) q = q.where('state', '=', sql<string>`any(${filter.states}::text[])`);
  if (filter.eventId) q = q.where('event_id', '=', filter.eventId);
  if (filter.before !== undefined) q = q.where('id', '<', filter.before);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toDelivery);
}

export async function findDelivery(db: Executor, endpointId: string, id: number): Promise<Delivery | undefined> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('id', '=', id).executeTakeFirst();
  return row && toDelivery(row);
}

export async function attemptsOf(db: Executor, deliveryId: number): Promise<DeliveryAttempt[]> {
  const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt').execute();
  return rows.map((r) => ({ attempt: r.attempt, startedAt: r.started_at, durationMs: r.duration_ms, statusCode: r.status_code, error: r.error, ok: r.ok }));
}

/** Events of the subtree at `path` that occurred in [from, to), oldest first, at most `limit`. */
export async function eventsForReplay(
  db: Executor,
  path: string,
  range: { from: Date; to?: Date },
  limit: number,
): Promise<{ sequence: number; id: string; type: string }[]> {
  let q = db.selectFrom('events').select(['sequence', 'id', 'type']).where('occurred_at', '>=', range.from);
  if (!isRootPath(path)) q = q.where('account_id', 'in', accountIdsUnder(db, path));
  if (range.to) q = q.where('occurred_at', '<', range.to);
  const rows = await q.orderBy('sequence').limit(limit).execute();
  return rows.map((r) => ({ sequence: Number(r.sequence), id: r.id, type: r.type }));
}

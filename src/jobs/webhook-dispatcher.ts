import type { Logger } from 'pino';
import type { Db, Executor } from '../db/database.ts';
import type { AlertService } from '../modules/alerts/alert.service.ts';
import { adminEmailsOf } from '../modules/auth/auth.repository.ts';
import { publishEvents } from '../modules/events/event.repository.ts';
import * as repo from '../modules/webhooks/webhook.repository.ts';
import type { AttemptOutcome, ClaimedDelivery, EndpointHealth } from '../modules/webhooks/webhook.repository.ts';
import {
  endpointReceives,
  envelopeOf,
  nextAttemptAfterFailure,
  type PausedEndpoint,
  pauseNoticeReason,
  type RetryPolicy,
  SIGNATURE_HEADER,
  shouldPause,
  signatureHeader,
} from '../modules/webhooks/webhook.ts';
import type { WebhookSender } from '../modules/webhooks/webhook.sender.ts';
import type { NotificationService } from '../modules/notifications/notification.service.ts';
import { isEmailAddress } from '../modules/notifications/notification.ts';
import type { Lang } from '../modules/notifications/templates.ts';
import type { Clock } from '../shared/clock.ts';

export interface DispatcherOptions extends RetryPolicy {
  /** Time limit of one request. */
  timeoutMs: number;
  /** Events fanned out, and deliveries attempted, per database round. */
  batchSize: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Pause between looks for work when there was none. */
  pollIntervalMs: number;
}

/** The language of owner notices: accounts and users carry none, and the platform's first language is Chinese. */
const NOTICE_LANG: Lang = 'zh';
/** Recipients of one e-mail at most (the notification queue's limit). */
const NOTICE_MAX_RECIPIENTS = 50;

/** Delivery rounds in flight at once, each with its share of the concurrency. */
const LANES = 2;
/** A delivery attempt still running when its lease ends is taken again: the lease outlasts the request by this. */
const LEASE_MARGIN_MS = 60_000;

/** What one pass did. */
export interface DispatchPass {
  fannedOut: number;
  attempted: number;
  delivered: number;
}

/** Runs `fn` over items with at most `limit` running at once. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Delivers the event outbox to webhook endpoints: fans new events out into deliveries (one per matching endpoint),
 * then sends due deliveries, records every attempt, schedules retries and pauses endpoints that keep failing.
 * Everything it knows is in the database, so a restart resumes where it stopped; delivery is at least once.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private started = false;
  private stopRequested = false;
  private current: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sender: WebhookSender,
    private readonly alerts: AlertService,
    private readonly notices: Pick<NotificationService, 'email'>,
    private readonly options: DispatcherOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.stopRequested = false;
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for work now, once started (passes run one at a time). */
  wake(): void {
    if (!this.started || this.running || this.stopRequested) return;
    this.running = true;
    this.current = this.drain()
      .catch((err: unknown) => this.log.error({ err }, 'webhook dispatch failed; retrying at the next poll'))
      .finally(() => {
        this.running = false;
      });
  }

  /** Finishes the pass in progress and stops looking for work. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.timer) clearInterval(this.timer);
    await this.current;
  }

  /** Waits for the pass in progress, then runs passes until nothing is due; returns what the last ones did. */
  async settle(): Promise<DispatchPass> {
    await this.current;
    const total: DispatchPass = { fannedOut: 0, attempted: 0, delivered: 0 };
    for (;;) {
      const pass = await this.runOnce();
      total.fannedOut += pass.fannedOut;
      total.attempted += pass.attempted;
      total.delivered += pass.delivered;
      if (pass.fannedOut === 0 && pass.attempted === 0) return total;
    }
  }

  private async drain(): Promise<void> {
    while (!this.stopRequested) {
      const pass = await this.runOnce();
      if (pass.fannedOut === 0 && pass.attempted === 0) return;
    }
  }

  /**
   * One round: fan out one batch of new events while the lanes each attempt one batch of due deliveries, so the
   * database work of one overlaps the requests of the others.
   */
  async runOnce(): Promise<DispatchPass> {
    // NOTE: the lanes claim with SKIP LOCKED, so they never take the same delivery; on PGlite their statements take
    // turns on the one connection while the other lane's requests are in flight.
    const [fannedOut, ...lanes] = await Promise.all([this.fanOut(), ...Array.from({ length: LANES }, () => this.deliver())]);
    return { fannedOut, attempted: lanes.reduce((n, l) => n + l.attempted, 0), delivered: lanes.reduce((n, l) => n + l.delivered, 0) };
  }

  /** Turns up to one batch of new events into deliveries, in one transaction. */
  private async fanOut(): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const events = await repo.claimUndispatchedEvents(trx, this.options.batchSize);
      if (events.length === 0) return 0;
      const endpoints = await repo.enabledEndpoints(trx);
      const deliveries: repo.NewDelivery[] = [];
      for (const event of events) {
        for (const endpoint of endpoints) {
          if (endpointReceives(endpoint, event)) {
            deliveries.push({ endpointId: endpoint.id, accountId: endpoint.accountId, eventSequence: event.sequence, eventId: event.id, eventType: event.type, replay: false });
          }
        }
      }
      await repo.insertDeliveries(trx, deliveries, now);
      return events.length;
    });
  }

  /** Attempts up to one batch of due deliveries and records the outcomes. */
  private async deliver(): Promise<{ attempted: number; delivered: number }> {
    const now = this.clock.now();
    const claimed = await repo.claimDueDeliveries(this.db, now, new Date(now.getTime() + this.options.timeoutMs + LEASE_MARGIN_MS), this.options.batchSize);
    if (claimed.length === 0) return { attempted: 0, delivered: 0 };
    const outcomes: AttemptOutcome[] = [];
    const order: { endpointId: string; ok: boolean; at: Date; error: string | null }[] = [];
    await forEachLimited(claimed, Math.max(1, Math.floor(this.options.concurrency / LANES)), async (d) => {
      const startedAt = this.clock.now();
      const result = await this.send(d);
      const attempt = d.attempts + 1;
      const finishedAt = this.clock.now();
      const retryAt = result.ok ? null : nextAttemptAfterFailure(d.createdAt, finishedAt, attempt, this.options, this.random);
      outcomes.push({
        deliveryId: d.id,
        attempt,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        error: result.error,
        ok: result.ok,
        state: result.ok ? 'delivered' : retryAt ? 'pending' : 'failed',
        nextAttemptAt: retryAt,
        finishedAt: result.ok || !retryAt ? finishedAt : null,
      });
      order.push({ endpointId: d.endpointId, ok: result.ok, at: startedAt, error: result.error });
    });
    await this.db.transaction().execute(async (trx) => {
      await repo.recordAttempts(trx, outcomes);
      await this.updateHealth(trx, order);
    });
    return { attempted: outcomes.length, delivered: outcomes.filter((o) => o.ok).length };
  }

  private send(d: ClaimedDelivery) {
    const body = JSON.stringify(envelopeOf(d.event));
    // NOTE: the signature's timestamp is the real time, not the platform clock: receivers compare it with theirs.
    const timestamp = Math.floor(Date.now() / 1000);
    return this.sender.send(
      d.url,
      {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'user-agent': 'Meridian-Webhooks/1',
        [SIGNATURE_HEADER.toLowerCase()]: signatureHeader(d.secret, timestamp, body),
        'meridian-event-id': d.event.id,
        'meridian-event-type': d.event.type,
        'meridian-delivery-id': String(d.id),
        'meridian-attempt': String(d.attempts + 1),
      },
      body,
    );
  }

  /** Advances each endpoint's run of failures and pauses those that failed long enough; the owner gets an alert, an event and an e-mail. */
  private async updateHealth(trx: Executor, order: { endpointId: string; ok: boolean; at: Date; error: string | null }[]): Promise<void> {
    const byEndpoint = new Map<string, EndpointHealth>();
    for (const o of order) {
      const h = byEndpoint.get(o.endpointId) ?? { endpointId: o.endpointId, reset: false, failures: 0, firstFailureAt: null, lastError: null };
      if (o.ok) Object.assign(h, { reset: true, failures: 0, firstFailureAt: null });
      else {
        h.failures++;
        h.firstFailureAt ??= o.at;
        h.lastError = o.error;
      }
      byEndpoint.set(o.endpointId, h);
    }
    // NOTE: endpoints in id order, so two lanes updating the same endpoints lock them in the same order.
    const updated = await repo.updateEndpointHealth(trx, [...byEndpoint.values()].sort((a, b) => (a.endpointId < b.endpointId ? -1 : 1)));
    const now = this.clock.now();
    const due = updated.filter((e) => e.state === 'enabled' && shouldPause(e.consecutiveFailures, e.failingSince, now, this.options));
    if (due.length === 0) return;
    const reason = `paused after ${this.options.pauseAfterFailures} or more failed attempts in a row over at least ${Math.round(this.options.pauseAfterMs / 60_000)} minutes`;
    const paused = new Set(await repo.pauseEndpoints(trx, due.map((e) => e.id), reason, now));
    const endpoints = due.filter((e) => paused.has(e.id));
    const lastError = (id: string) => byEndpoint.get(id)?.lastError ?? null;
    await this.alerts.raise(
      trx,
      endpoints.map((e) => ({
        accountId: e.accountId,
        type: 'webhook_endpoint_paused',
        severity: 'warning' as const,
        subject: { kind: 'webhook' as const, id: e.id },
        message: `webhook endpoint ${e.url} was paused after ${e.consecutiveFailures} failed deliveries in a row since ${e.failingSince?.toISOString() ?? ''}; fix the receiver, then resume the endpoint and replay what it missed`,
        data: { endpointId: e.id, url: e.url, consecutiveFailures: e.consecutiveFailures, lastError: lastError(e.id) },
      })),
      now,
    );
    await publishEvents(
      trx,
      endpoints.map((e) => ({
        type: 'webhook.endpoint_paused',
        accountId: e.accountId,
        subject: { kind: 'webhook', id: e.id },
        data: { endpointId: e.id, url: e.url, consecutiveFailures: e.consecutiveFailures, failingSince: e.failingSince?.toISOString() ?? now.toISOString(), lastError: lastError(e.id) },
      })),
      now,
    );
    await this.noticeOwners(trx, endpoints.map((e) => ({ ...e, lastError: lastError(e.id) })));
    for (const e of endpoints) this.log.warn({ endpointId: e.id, url: e.url, failures: e.consecutiveFailures }, 'webhook endpoint paused');
  }

  /**
   * Queues the `webhook_paused` e-mail to the admin users of each paused endpoint's account. In the pausing
   * transaction: only the call that paused an endpoint gets here, so each pause is told once.
   */
  private async noticeOwners(trx: Executor, endpoints: (PausedEndpoint & { id: string; accountId: string })[]): Promise<void> {
    const contacts = await adminEmailsOf(trx, [...new Set(endpoints.map((e) => e.accountId))]);
    for (const e of endpoints) {
      const to = [...new Set(contacts.get(e.accountId) ?? [])].filter(isEmailAddress).slice(0, NOTICE_MAX_RECIPIENTS);
      if (to.length === 0) {
        this.log.warn({ endpointId: e.id, accountId: e.accountId }, 'webhook endpoint paused; its account has no admin user with an e-mail address to tell');
        continue;
      }
      await this.notices.email({ accountId: e.accountId, to, template: 'webhook_paused', lang: NOTICE_LANG, vars: { url: e.url, reason: pauseNoticeReason(e, NOTICE_LANG) } }, trx);
    }
  }
}

import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { newId, newSecret } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { findEvent } from '../events/event.repository.ts';
import { matchesEventType } from '../events/event.ts';
import * as repo from './webhook.repository.ts';
import { checkEndpointUrl, type Delivery, type DeliveryAttempt, type DeliveryState, type EndpointState, MAX_ENDPOINTS_PER_ACCOUNT, type WebhookEndpoint } from './webhook.ts';

/** Events one replay request may queue at most. */
export const REPLAY_LIMIT = 100_000;

export interface EndpointInput {
  url: string;
  eventTypes: string[];
  description?: string | null;
  accountId?: string;
}

export interface EndpointPatch {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  state?: EndpointState;
}

const newSigningSecret = (): string => newSecret('whsec');


/** Webhook endpoints of an account subtree: registration, secrets, the delivery log and replays. */
export class WebhookService {
  private readonly replayListeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly options: { allowPrivateTargets: boolean },
  ) {}

  private checkUrl(url: string): void {
    const problem = checkEndpointUrl(url, { allowPrivate: this.options.allowPrivateTargets });
    if (problem) throw invalid('invalid_webhook_url', problem);
  }

  /** Called after a replay queued deliveries (the dispatcher looks for work at once). */
  onReplayQueued(listener: () => void): void {
    this.replayListeners.push(listener);
  }

  /** Registers an endpoint; the answer carries its signing secret, which is never shown again. */
  async createEndpoint(principal: Principal, input: EndpointInput): Promise<WebhookEndpoint> {
    requirePermission(principal, 'webhooks:write');
    this.checkUrl(input.url);
    const account = input.accountId ? await this.accounts.getAccount(principal, input.accountId) : { id: principal.accountId };
    if ((await repo.countEndpoints(this.db, account.id)) >= MAX_ENDPOINTS_PER_ACCOUNT) {
      throw conflict('webhook_limit_reached', `account ${account.id} already has ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints, the most an account may have; remove one first`);
    }
    const now = this.clock.now();
    return repo.insertEndpoint(this.db, {
      id: newId('whk'),
      accountId: account.id,
      url: input.url,
      description: input.description ?? null,
      eventTypes: [...new Set(input.eventTypes)],
      secret: newSigningSecret(),
      state: 'enabled',
      pausedReason: null,
      pausedAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  async getEndpoint(principal: Principal, id: string): Promise<WebhookEndpoint> {
    requirePermission(principal, 'read');
    const endpoint = await repo.findEndpoint(this.db, id, principal.accountPath);
    if (!endpoint) throw notFound('webhook', id);
    return endpoint;
  }

  async listEndpoints(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<WebhookEndpoint[]> {
    requirePermission(principal, 'read');
    if (filter.accountId) await this.accounts.getAccount(principal, filter.accountId);
    return repo.listEndpoints(this.db, principal.accountPath, filter);
  }

  /** Changes URL, event types, description or state; resuming (`enabled`) also ends the endpoint's run of failures. */
  async updateEndpoint(principal: Principal, id: string, patch: EndpointPatch): Promise<WebhookEndpoint> {
    requirePermission(principal, 'webhooks:write');
    const endpoint = await this.getEndpoint(principal, id);
    if (patch.url !== undefined) this.checkUrl(patch.url);
    return repo.updateEndpoint(this.db, endpoint.id, { ...patch, eventTypes: patch.eventTypes && [...new Set(patch.eventTypes)] }, this.clock.now());
  }

  /** A new signing secret, shown once; the old one stops signing at once. */
  async rotateSecret(principal: Principal, id: string): Promise<WebhookEndpoint> {
    requirePermission(principal, 'webhooks:write');
    const endpoint = await this.getEndpoint(principal, id);
    return repo.updateEndpoint(this.db, endpoint.id, { secret: newSigningSecret() }, this.clock.now());
  }

  async deleteEndpoint(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'webhooks:write');
    const endpoint = await this.getEndpoint(principal, id);
    await repo.deleteEndpoint(this.db, endpoint.id);
  }

  /** Deliveries to an endpoint, newest first. */
  async listDeliveries(
    principal: Principal,
    id: string,
    filter: { states?: DeliveryState[]; eventId?: string; cursor?: string; limit: number },
  ): Promise<{ items: Delivery[]; nextCursor: string | null }> {
    const endpoint = await this.getEndpoint(principal, id);
    let before: number | undefined;
    if (filter.cursor !== undefined) {
      before = /^\d{1,18}$/.test(filter.cursor) ? Number(filter.cursor) : undefined;
      if (before === undefined) throw invalid('invalid_cursor', 'cursor is not one this API returned; start again without it');
    }
    const rows = await repo.listDeliveries(this.db, endpoint.id, { states: filter.states, eventId: filter.eventId, before, limit: filter.limit + 1 });
    const items = rows.slice(0, filter.limit);
    return { items, nextCursor: rows.length > filter.limit ? String(items.at(-1)!.id) : null };
  }

  /** One delivery with every attempt. */
  async getDelivery(principal: Principal, id: string, deliveryId: number): Promise<Delivery & { attempts: number; log: DeliveryAttempt[] }> {
    const endpoint = await this.getEndpoint(principal, id);
    const delivery = await repo.findDelivery(this.db, endpoint.id, deliveryId);
    if (!delivery) throw notFound('delivery', `${deliveryId} of webhook ${id}`);
    return { ...delivery, log: await repo.attemptsOf(this.db, delivery.id) };
  }

  /**
   * Sends events again to an endpoint, as new deliveries with the same event ids: one event (whatever the endpoint's
   * event types), or every event of the endpoint's subtree matching its event types since a time.
   */
  async replay(principal: Principal, id: string, what: { eventId: string } | { from: Date; to?: Date }): Promise<{ deliveries: number }> {
    requirePermission(principal, 'webhooks:write');
    const endpoint = await this.getEndpoint(principal, id);
    const path = (await this.accounts.getAccount(principal, endpoint.accountId)).path;
    let events: { sequence: number; id: string; type: string }[];
    if ('eventId' in what) {
      const event = await findEvent(this.db, what.eventId, path);
      if (!event) throw notFound('event', `${what.eventId} of the subtree of webhook ${id}'s account`);
      events = [event];
    } else {
      if (what.to && what.from >= what.to) throw invalid('invalid_time_range', `from (${what.from.toISOString()}) must be before to (${what.to.toISOString()})`);
      const found = await repo.eventsForReplay(this.db, path, what, REPLAY_LIMIT + 1);
      if (found.length > REPLAY_LIMIT) {
        throw invalid('replay_too_large', `more than ${REPLAY_LIMIT} events occurred in this range; replay a shorter range (give "to") at a time`);
      }
      events = found.filter((e) => endpoint.eventTypes.some((p) => matchesEventType(p, e.type)));
    }
    const now = this.clock.now();
    await repo.insertDeliveries(
      this.db,
      events.map((e) => ({ endpointId: endpoint.id, accountId: endpoint.accountId, eventSequence: e.sequence, eventId: e.id, eventType: e.type, replay: true })),
      now,
    );
    if (events.length) for (const l of this.replayListeners) l();
    return { deliveries: events.length };
  }
}

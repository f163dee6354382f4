import type { Db } from '../../db/database.ts';
import { invalid, notFound } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { decodeEventCursor, encodeEventCursor, type EventFilter, type StoredEvent } from './event.ts';
import * as repo from './event.repository.ts';

export interface EventQuery extends EventFilter {
  cursor?: string;
  order: 'asc' | 'desc';
  limit: number;
}

/** Read side of the event outbox: the events of the caller's account subtree. */
export class EventService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
  ) {}

  /** Events newest first (or oldest first), filtered by type (`sim.*` patterns), subject, account and time. */
  async listEvents(principal: Principal, query: EventQuery): Promise<{ items: StoredEvent[]; nextCursor: string | null }> {
    requirePermission(principal, 'read');
    if (query.from && query.to && query.from >= query.to) {
      throw invalid('invalid_time_range', `from (${query.from.toISOString()}) must be before to (${query.to.toISOString()})`);
    }
    if (query.accountId !== undefined) await this.accounts.getAccount(principal, query.accountId);
    let after: number | undefined;
    if (query.cursor !== undefined) {
      after = decodeEventCursor(query.cursor) ?? undefined;
      if (after === undefined) throw invalid('invalid_cursor', 'cursor is not one this API returned; start again without it');
    }
    const rows = await repo.listEvents(this.db, principal.accountPath, query, { after, ascending: query.order === 'asc', limit: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeEventCursor(last.sequence) : null };
  }

  async getEvent(principal: Principal, id: string): Promise<StoredEvent> {
    requirePermission(principal, 'read');
    const event = await repo.findEvent(this.db, id, principal.accountPath);
    if (!event) throw notFound('event', id);
    return event;
  }
}

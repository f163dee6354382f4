import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { NewEvent } from '../events/event.ts';
import { type Alert, type AlertFilter, decodeAlertCursor, encodeAlertCursor, type NewAlert } from './alert.ts';
import * as repo from './alert.repository.ts';

/** How many alerts one bulk handle changes at most; the answer says when more are left. */
export const BULK_HANDLE_LIMIT = 50_000;

export interface AlertQuery extends AlertFilter {
  cursor?: string;
  limit: number;
}

const raisedEvent = (a: Alert): NewEvent => ({
  type: 'alert.raised',
  accountId: a.accountId,
  subject: { kind: 'alert', id: a.id },
  data: { alertId: a.id, type: a.type, severity: a.severity, message: a.message, alertSubject: a.subject, data: a.data },
});

const handledEvent = (a: Alert): NewEvent => ({
  type: 'alert.handled',
  accountId: a.accountId,
  subject: { kind: 'alert', id: a.id },
  data: { alertId: a.id, type: a.type, severity: a.severity, handledBy: a.handledBy ?? '', remark: a.remark },
});

/** Alerts (告警): raised by the platform's rules, listed and searched, handled with a remark by the account's people. */
export class AlertService {
  private readonly raisedListeners: ((alerts: Alert[]) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
  ) {}

  /** Raises alerts and publishes `alert.raised` for each; with a transaction, both commit with the caller's change. */
  async raise(db: Executor, alerts: NewAlert[], at: Date): Promise<Alert[]> {
    if (alerts.length === 0) return [];
    const stored: Alert[] = alerts.map((a) => ({
      id: newId('alr'),
      accountId: a.accountId,
      type: a.type,
      severity: a.severity,
      subject: a.subject,
      message: a.message,
      data: a.data ?? {},
      raisedAt: at,
      state: 'unhandled',
      handledBy: null,
      handledAt: null,
      remark: null,
    }));
    const write = async (trx: Executor) => {
      await repo.insertAlerts(trx, stored);
      await publishEvents(trx, stored.map(raisedEvent), at);
    };
    if (db.isTransaction) await write(db);
    else await db.transaction().execute(write);
    // NOTE: raised inside a caller's transaction, the listeners hear of the alerts before that transaction commits.
    for (const listener of this.raisedListeners) listener(stored);
    return stored;
  }

  /** Called after alerts are raised (policy-violation rules). */
  onRaised(listener: (alerts: Alert[]) => void): void {
    this.raisedListeners.push(listener);
  }

  /** Alerts of the caller's subtree matching every given filter, newest first. */
  async listAlerts(principal: Principal, query: AlertQuery): Promise<{ items: Alert[]; nextCursor: string | null }> {
    requirePermission(principal, 'read');
    await this.checkFilter(principal, query);
    let before;
    if (query.cursor !== undefined) {
      before = decodeAlertCursor(query.cursor) ?? undefined;
      if (!before) throw invalid('invalid_cursor', 'cursor is not one this API returned; start again without it');
    }
    const rows = await repo.listAlerts(this.db, principal.accountPath, query, { before, limit: query.limit + 1 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? encodeAlertCursor(last) : null };
  }

  async getAlert(principal: Principal, id: string): Promise<Alert> {
    requirePermission(principal, 'read');
    const alert = await repo.findAlert(this.db, id, principal.accountPath);
    if (!alert) throw notFound('alert', id);
    return alert;
  }

  /** Marks one alert handled with a remark; `alert_already_handled` when someone did already. */
  async handleAlert(principal: Principal, id: string, remark: string | null): Promise<Alert> {
    requirePermission(principal, 'alerts:write');
    const alert = await this.getAlert(principal, id);
    const [changed] = await this.handle(principal, { ids: [alert.id] }, remark, 1);
    if (!changed) {
      const now = await this.getAlert(principal, id);
      throw conflict('alert_already_handled', `alert ${id} was handled by ${now.handledBy ?? 'someone'} at ${now.handledAt?.toISOString() ?? 'an earlier time'}`, {
        handledBy: now.handledBy,
        handledAt: now.handledAt?.toISOString() ?? null,
      });
    }
    return changed;
  }

  /** Marks every unhandled alert matching the filter (or the listed ids) handled, up to BULK_HANDLE_LIMIT at once. */
  async handleAlerts(principal: Principal, filter: AlertFilter, remark: string | null): Promise<{ handled: number; more: boolean }> {
    requirePermission(principal, 'alerts:write');
    await this.checkFilter(principal, filter);
    const changed = await this.handle(principal, filter, remark, BULK_HANDLE_LIMIT);
    return { handled: changed.length, more: changed.length === BULK_HANDLE_LIMIT };
  }

  private async handle(principal: Principal, filter: AlertFilter, remark: string | null, limit: number): Promise<Alert[]> {
    const at = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const changed = await repo.handleAlerts(trx, principal.accountPath, filter, { handledBy: principal.actor, remark, at }, limit);
      await publishEvents(trx, changed.map(handledEvent), at);
      return changed;
    });
  }

  private async checkFilter(principal: Principal, filter: AlertFilter): Promise<void> {
    if (filter.from && filter.to && filter.from >= filter.to) {
      throw invalid('invalid_time_range', `from (${filter.from.toISOString()}) must be before to (${filter.to.toISOString()})`);
    }
    if (filter.accountId !== undefined) await this.accounts.getAccount(principal, filter.accountId);
  }
}

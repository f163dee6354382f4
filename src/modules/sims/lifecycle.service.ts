import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import * as changes from '../changes/change-record.repository.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { ProvisioningAdapter } from '../provisioning/provisioning.ts';
import {
  AUTOMATIC_TRANSITIONS,
  type ChangeSource,
  checkTransition,
  type LifecyclePeriods,
  type SimState,
  type SuspendReason,
  stateDueAt,
} from './sim.ts';
import * as repo from './sim.repository.ts';
import type { SimRow } from './sim.repository.ts';

export interface TransitionInput {
  state: SimState;
  suspendReason?: SuspendReason;
  reason?: string;
  /** Length of a test or silent period (or deactivation limit) in days, instead of the configured default. */
  periodDays?: number;
  /** Data a SIM entering `test` may use before it becomes active, instead of the configured default. */
  testAllowanceBytes?: number;
  /** SMS a SIM entering `test` may send or receive before it becomes active, instead of the configured default. */
  testAllowanceSms?: number;
}

export interface ChangeOrigin {
  source: ChangeSource;
  actor: string | null;
  jobId?: string | null;
}

export interface TransitionResult {
  iccid: string;
  ok: boolean;
  from: SimState;
  to: SimState;
  /** Error code when not ok; `unchanged` when the SIM was already in the target state. */
  code?: string;
  message?: string;
  changeRecordId?: number;
}

export interface StateChangedEvent {
  iccid: string;
  accountId: string;
  from: SimState;
  to: SimState;
  suspendReason: SuspendReason | null;
  reason: string | null;
  source: ChangeSource;
  at: Date;
}

const PROVISIONING_CONCURRENCY = 64;
/** Pause before an automatic transition the network refused is tried again. */
export const AUTOMATIC_RETRY_MS = 10 * 60_000;

/** Runs `fn` over items with at most `limit` running at once. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Moves SIMs between lifecycle states: validate, record as pending, provision on the network, then
 * commit the new state and complete the record; a failed provisioning leaves the SIM where it was.
 */
export class LifecycleService {
  private readonly listeners: ((e: StateChangedEvent) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly provisioning: ProvisioningAdapter,
    private readonly periods: LifecyclePeriods & { testAllowanceBytes: number; testAllowanceSms?: number | null },
  ) {}

  /** Called after each committed state change (enforcement, events). */
  onStateChanged(listener: (e: StateChangedEvent) => void): void {
    this.listeners.push(listener);
  }

  async transition(rows: SimRow[], input: TransitionInput, origin: ChangeOrigin, dryRun = false): Promise<TransitionResult[]> {
    const now = this.clock.now();
    const to = input.state;
    const suspendReason = to === 'suspended' ? (input.suspendReason ?? 'user') : null;
    const reason = suspendReason ? [suspendReason, input.reason].filter(Boolean).join(': ') : (input.reason ?? null);
    const results = new Map<string, TransitionResult>();
    const legal: SimRow[] = [];
    for (const row of rows) {
      const from = row.state as SimState;
      const check = checkTransition(from, to);
      if (check.ok) legal.push(row);
      else results.set(row.iccid, { iccid: row.iccid, ok: check.code === 'unchanged', from, to, code: check.code, message: check.message });
    }
    if (dryRun || legal.length === 0) {
      for (const row of legal) results.set(row.iccid, { iccid: row.iccid, ok: true, from: row.state as SimState, to });
      return rows.map((r) => results.get(r.iccid)!);
    }

    const ids = await changes.insertChangeRecords(
      this.db,
      legal.map((row) => ({
        accountId: row.account_id,
        iccid: row.iccid,
        field: 'state',
        oldValue: row.state,
        newValue: to,
        source: origin.source,
        actor: origin.actor,
        reason,
        status: 'pending' as const,
        jobId: origin.jobId ?? null,
        createdAt: now,
      })),
    );
    const activeImsi = await repo.profilesOf(this.db, legal.map((r) => r.iccid));
    const failures: { id: number; error: string }[] = [];
    const provisioned: { row: SimRow; id: number }[] = [];
    await forEachLimited(
      legal.map((row, i) => ({ row, id: ids[i]! })),
      PROVISIONING_CONCURRENCY,
      async ({ row, id }) => {
        try {
          await this.provisioning.provision({
            requestId: `chg_${id}`,
            iccid: row.iccid,
            imsi: activeImsi.get(row.iccid)?.find((p) => p.active)?.imsi ?? null,
            msisdn: row.msisdn,
            from: row.state as SimState,
            to,
            reason,
          });
          provisioned.push({ row, id });
        } catch (e) {
          failures.push({ id, error: (e as Error).message });
          results.set(row.iccid, { iccid: row.iccid, ok: false, from: row.state as SimState, to, code: 'provisioning_failed', message: (e as Error).message, changeRecordId: id });
        }
      },
    );

    const doneAt = this.clock.now();
    const moved = await this.db.transaction().execute(async (trx) => {
      const moved = await repo.applyStateChange(
        trx,
        provisioned.map(({ row }) => ({ iccid: row.iccid, from: row.state as SimState })),
        {
          state: to,
          suspendReason,
          dueAt: stateDueAt(to, doneAt, this.periods, input.periodDays),
          testAllowanceBytes: to === 'test' ? (input.testAllowanceBytes ?? this.periods.testAllowanceBytes) : null,
          testAllowanceSms: to === 'test' ? (input.testAllowanceSms ?? this.periods.testAllowanceSms ?? null) : null,
          now: doneAt,
        },
      );
      const lost = provisioned.filter(({ row }) => !moved.has(row.iccid));
      for (const { row, id } of lost) {
        const message = `SIM ${row.iccid} changed state while this change was being provisioned; nothing was applied`;
        failures.push({ id, error: message });
        results.set(row.iccid, { iccid: row.iccid, ok: false, from: row.state as SimState, to, code: 'concurrent_change', message, changeRecordId: id });
      }
      const committed = provisioned.filter(({ row }) => moved.has(row.iccid));
      await changes.completeChangeRecords(trx, committed.map(({ id }) => id), doneAt);
      await changes.failChangeRecords(trx, failures, doneAt);
      await publishEvents(
        trx,
        committed.map(({ row, id }) => ({
          type: 'sim.state_changed',
          accountId: row.account_id,
          subject: { kind: 'sim' as const, id: row.iccid },
          data: { iccid: row.iccid, from: row.state, to, suspendReason, reason, source: origin.source, actor: origin.actor, jobId: origin.jobId ?? null, changeRecordId: id },
        })),
        doneAt,
      );
      return moved;
    });

    for (const { row, id } of provisioned) {
      if (!moved.has(row.iccid)) continue;
      const from = row.state as SimState;
      results.set(row.iccid, { iccid: row.iccid, ok: true, from, to, changeRecordId: id });
      const event: StateChangedEvent = { iccid: row.iccid, accountId: row.account_id, from, to, suspendReason, reason, source: origin.source, at: doneAt };
      for (const listener of this.listeners) listener(event);
    }
    return rows.map((r) => results.get(r.iccid)!);
  }

  /** Takes the automatic transitions that are due (test/silent period over, deactivation limit reached). Returns how many moved. */
  async runDueTransitions(batchSize = 500): Promise<number> {
    let moved = 0;
    for (const [from, auto] of Object.entries(AUTOMATIC_TRANSITIONS)) {
      if (!auto) continue;
      for (;;) {
        const now = this.clock.now();
        const due = await repo.findDueSims(this.db, now, [from as SimState], batchSize);
        if (due.length === 0) break;
        const results = await this.transition(due, { state: auto.to, reason: auto.reason }, { source: 'system', actor: 'system:lifecycle' });
        moved += results.filter((r) => r.ok && r.code !== 'unchanged').length;
        // NOTE: a SIM the network refused stays in its state and is tried again after a pause, not on every pass.
        const retryAt = new Date(now.getTime() + AUTOMATIC_RETRY_MS);
        await repo.postponeDue(this.db, results.filter((r) => !r.ok).map((r) => r.iccid), from as SimState, retryAt);
        if (due.length < batchSize) break;
      }
    }
    return moved;
  }

  /**
   * Fails state changes left pending by a process that stopped between provisioning and commit: the SIM kept
   * its state; the network may or may not have applied the change, so the record says to repeat it.
   */
  async failInterruptedChanges(): Promise<number> {
    return changes.failPendingChangeRecords(
      this.db,
      this.clock.now(),
      'interrupted by a stop before the change was committed; the SIM kept its state; repeat the change so the network and Meridian agree',
    );
  }
}

import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { invalid } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import {
  checkRenewalLimit,
  expiryReminders,
  renewalWindow,
  renewTerm,
  type TermExpiry,
  termEndingIn,
  termExpiry,
  termStatus,
  type TermStatus,
} from '../rating/billing-cycle.ts';
import { loadRatingCatalog } from '../rating/catalog.repository.ts';
import { planVersionAt } from '../rating/rate-plan.ts';
import type { LifecycleService } from '../sims/lifecycle.service.ts';
import * as sims from '../sims/sim.repository.ts';
import type { SimRow } from '../sims/sim.repository.ts';
import type { SimService } from '../sims/sim.service.ts';
import * as repo from './prepaid-term.repository.ts';
import type { TermRow, TermWrite } from './prepaid-term.repository.ts';

/** Days before the expiry date on which a reminder is published (Fanyi defaults: 30 and 15). */
export const EXPIRY_REMINDER_DAYS: readonly number[] = Object.freeze([30, 15]);
const BATCH = 500;
const ALL: sims.Scope = { path: '/', isRoot: true };

/** An event as the events outbox takes it. */
export interface TermEvent {
  type: string;
  accountId: string;
  subject: { kind: 'sim' | 'order'; id: string };
  data: Record<string, unknown>;
}

/** Publishes events in the caller's transaction (the events outbox). */
export type PublishEvents = (db: Executor, events: TermEvent[], at: Date) => Promise<void>;

/** A SIM's prepaid term as shown to users. */
export interface TermView {
  iccid: string;
  accountId: string;
  /** The last day of the term, local to the account. */
  expiryDate: string;
  expiresAt: Date;
  /** The last local day a renewal is accepted (the 22nd of the month after expiry). */
  lastRenewalDate: string;
  /** When an unrenewed SIM is cancelled (local midnight starting the 23rd). */
  cancelAt: Date;
  status: TermStatus | 'cancelled';
  /** Reminders already published for this expiry (days before it). */
  remindedDays: number[];
  /** False while the term is only computed from the activation date and the plan (nothing renewed or scheduled yet). */
  stored: boolean;
}

/** The SIM a term belongs to. */
export type TermSim = Pick<SimRow, 'iccid' | 'account_id' | 'activated_at' | 'state'>;

/** The stored form of a term: the cancellation day and the first reminder not yet published. */
export function termWrite(iccid: string, accountId: string, expiry: TermExpiry, timeZone: string, now: Date, remindedDays: number[] = []): TermWrite {
  return {
    iccid,
    accountId,
    lastMonth: expiry.lastMonth,
    expiryDate: expiry.expiryDate,
    expiresAt: expiry.expiresAt,
    cancelAt: renewalWindow(expiry, timeZone).cancelAt,
    status: 'in_term',
    remindedDays,
    nextReminderAt: nextReminder(expiry, timeZone, remindedDays),
    now,
  };
}

function nextReminder(expiry: TermExpiry, timeZone: string, remindedDays: readonly number[]): Date | null {
  return expiryReminders(expiry, EXPIRY_REMINDER_DAYS, timeZone).find((r) => !remindedDays.includes(r.days) && r.at < expiry.expiresAt)?.at ?? null;
}

/**
 * Prepaid terms of SIMs (续费): when a term expires (the month of activation is the first month), renewal that
 * continues from the old expiry, and the scheduled work around expiry: reminders 30 and 15 days before
 * (`sim.expiry_reminder`), suspension when the term ends, cancellation (销卡) of SIMs not renewed by the 22nd of the
 * next month, and resumption of SIMs renewed while suspended.
 */
export class PrepaidTermService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly simService: SimService,
    private readonly lifecycle: LifecycleService,
    private readonly publish: PublishEvents,
  ) {}

  /** The term of a SIM the principal can see; `sim_not_prepaid` when it has none. */
  async getTerm(principal: Principal, iccid: string): Promise<TermView> {
    const sim = await this.simService.getSimRow(principal, iccid);
    const [timeZone] = [...(await repo.timeZonesOf(this.db, [sim.account_id])).values()];
    const stored = await repo.findTerm(this.db, iccid);
    const now = this.clock.now();
    if (stored) return viewOf(stored, timeZone!, now);
    const termMonths = await this.termMonthsOf(this.db, sim.plan_id, now);
    const expiry = this.initialTerm(sim, termMonths, timeZone!);
    const w = renewalWindow(expiry, timeZone);
    return {
      iccid,
      accountId: sim.account_id,
      expiryDate: expiry.expiryDate,
      expiresAt: expiry.expiresAt,
      lastRenewalDate: w.lastRenewalDate,
      cancelAt: w.cancelAt,
      status: termStatus(expiry, now, timeZone),
      remindedDays: [],
      stored: false,
    };
  }

  /** The term months of the plan version in force, or null for a monthly plan or none. */
  async termMonthsOf(db: Executor, planId: string | null, at: Date): Promise<number | null> {
    if (!planId) return null;
    const rows = await db.selectFrom('rate_plans').select(['id', 'version', 'effective_from', 'definition']).where('id', '=', planId).orderBy('version').execute();
    const versions = rows.map((r) => ({ effectiveFrom: r.effective_from, version: r.version, termMonths: (r.definition.termMonths as number | null | undefined) ?? null }));
    const v = versions.filter((x) => x.effectiveFrom.getTime() <= at.getTime()).at(-1) ?? versions[0];
    return v?.termMonths ?? null;
  }

  /** The first term of a SIM from its activation; throws when the SIM has none. */
  initialTerm(sim: TermSim, termMonths: number | null, timeZone: string): TermExpiry {
    if (termMonths === null) throw invalid('sim_not_prepaid', `SIM ${sim.iccid} is not on a prepaid plan (a plan with termMonths); it has no term to renew`);
    if (!sim.activated_at) throw invalid('sim_not_activated', `SIM ${sim.iccid} is ${sim.state} and was never activated; its term starts with activation`);
    return termExpiry(sim.activated_at, termMonths, timeZone);
  }

  /**
   * The term a renewal of `months` gives, without storing it: from the stored term, or from the first term. Throws
   * `renewal_closed` after the 22nd of the month after expiry (or once cancelled) and `renewal_limit_exceeded`.
   */
  async previewRenewal(db: Executor, sim: TermSim, termMonths: number | null, months: number, timeZone: string, lock = false): Promise<{ from: TermExpiry; to: TermExpiry }> {
    const now = this.clock.now();
    const stored = lock ? await repo.lockTerm(db, sim.iccid) : await repo.findTerm(db, sim.iccid);
    const from = stored ? termEndingIn(stored.last_month, timeZone) : this.initialTerm(sim, termMonths, timeZone);
    if (stored?.status === 'cancelled') {
      throw invalid('renewal_closed', `SIM ${sim.iccid} was cancelled after its term expired on ${stored.expiry_date} without renewal by ${renewalWindow(from, timeZone).lastRenewalDate}`);
    }
    const to = renewTerm(from, months, now, timeZone);
    checkRenewalLimit(to, now, timeZone);
    return { from, to };
  }

  /**
   * Renews a SIM's term in the caller's transaction: locks the stored term, continues it from the old expiry (also
   * after expiry, within the window) and stores the new one with fresh reminders.
   */
  async renew(trx: Executor, sim: TermSim, termMonths: number | null, months: number, timeZone: string): Promise<{ from: TermExpiry; to: TermExpiry }> {
    const result = await this.previewRenewal(trx, sim, termMonths, months, timeZone, true);
    await repo.upsertTerms(trx, [termWrite(sim.iccid, sim.account_id, result.to, timeZone, this.clock.now())]);
    return result;
  }

  /** Makes SIMs suspended for expiry active again when their term is in force (after a renewal). Returns how many. */
  async resumeRenewed(iccids?: string[]): Promise<number> {
    let resumed = 0;
    for (;;) {
      const due = await repo.renewedButSuspended(this.db, this.clock.now(), BATCH);
      const wanted = iccids ? due.filter((i) => iccids.includes(i)) : due;
      if (wanted.length === 0) break;
      const rows = await sims.findSimRows(this.db, wanted, ALL);
      const results = await this.lifecycle.transition(rows, { state: 'active', reason: 'prepaid term renewed' }, { source: 'system', actor: 'system:orders' });
      const moved = results.filter((r) => r.ok && r.code !== 'unchanged').length;
      resumed += moved;
      if (iccids || due.length < BATCH || moved === 0) break;
    }
    return resumed;
  }

  /**
   * The scheduled work, in batches, each step idempotent: store the terms of newly activated prepaid SIMs, publish due
   * reminders, suspend SIMs whose term ended, cancel those not renewed by the 22nd, resume renewed ones.
   */
  async runDue(): Promise<number> {
    return (await this.storeNewTerms()) + (await this.publishReminders()) + (await this.suspendExpired()) + (await this.cancelUnrenewed()) + (await this.resumeRenewed());
  }

  /** Stores the first term of activated SIMs on prepaid plans that have none yet. */
  async storeNewTerms(): Promise<number> {
    const now = this.clock.now();
    const { plans } = await loadRatingCatalog(this.db);
    const byId = new Map<string, typeof plans>();
    for (const p of plans) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
    const months = new Map<string, number>();
    for (const [id, versions] of byId) {
      const termMonths = (planVersionAt(versions, now) ?? versions[0])?.termMonths ?? null;
      if (termMonths !== null) months.set(id, termMonths);
    }
    if (months.size === 0) return 0;
    let stored = 0;
    for (;;) {
      const rows = await repo.simsWithoutTerm(this.db, [...months.keys()], 1000);
      if (rows.length === 0) break;
      const terms = rows.map((r) => termWrite(r.iccid, r.account_id, termExpiry(r.activated_at, months.get(r.plan_id)!, r.timezone), r.timezone, now));
      await repo.insertMissingTerms(this.db, terms);
      stored += terms.length;
      if (rows.length < 1000) break;
    }
    return stored;
  }

  /** Publishes `sim.expiry_reminder` once per threshold (30 and 15 days before expiry); the nearest one when several are due. */
  async publishReminders(): Promise<number> {
    let published = 0;
    for (;;) {
      const now = this.clock.now();
      const count = await this.db.transaction().execute(async (trx) => {
        const due = await repo.dueReminders(trx, now, BATCH);
        if (due.length === 0) return 0;
        const zones = await repo.timeZonesOf(trx, [...new Set(due.map((t) => t.account_id))]);
        const events: TermEvent[] = [];
        for (const t of due) {
          const timeZone = zones.get(t.account_id)!;
          const expiry = termEndingIn(t.last_month, timeZone);
          const reminders = expiryReminders(expiry, EXPIRY_REMINDER_DAYS, timeZone);
          const fresh = reminders.filter((r) => r.at <= now && !t.reminded_days.includes(r.days));
          const nearest = fresh.at(-1);
          if (nearest && now < expiry.expiresAt) {
            events.push({
              type: 'sim.expiry_reminder',
              accountId: t.account_id,
              subject: { kind: 'sim', id: t.iccid },
              data: { iccid: t.iccid, expiryDate: t.expiry_date, daysBefore: nearest.days, lastRenewalDate: renewalWindow(expiry, timeZone).lastRenewalDate },
            });
          }
          const reminded = [...t.reminded_days, ...fresh.map((r) => r.days)];
          // NOTE: the reminders that are due are marked in the same transaction as their event, so each goes out once.
          await repo.setReminders(trx, t.iccid, reminded, nextReminder(expiry, timeZone, reminded), now);
        }
        await this.publish(trx, events, now);
        return events.length;
      });
      published += count;
      if (count < BATCH) break;
    }
    return published;
  }

  /** Suspends SIMs whose prepaid term has ended (停卡); they stay renewable until the 22nd of the next month. */
  async suspendExpired(): Promise<number> {
    let suspended = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await repo.dueExpiries(this.db, now, BATCH);
      if (due.length === 0) break;
      const zones = await repo.timeZonesOf(this.db, [...new Set(due.map((t) => t.account_id))]);
      const rows = await sims.findSimRows(this.db, due.map((t) => t.iccid), ALL);
      const suspendable = rows.filter((r) => ['active', 'test', 'silent'].includes(r.state));
      const byIccid = new Map(due.map((t) => [t.iccid, t]));
      const done = new Set(due.map((t) => t.iccid));
      for (const group of byExpiry(suspendable, byIccid)) {
        const t = group.term;
        const timeZone = zones.get(t.account_id)!;
        const w = renewalWindow(termEndingIn(t.last_month, timeZone), timeZone);
        const results = await this.lifecycle.transition(
          group.rows,
          { state: 'suspended', suspendReason: 'expiry', reason: `prepaid term ended on ${t.expiry_date}; renewable until ${w.lastRenewalDate}` },
          { source: 'system', actor: 'system:orders' },
        );
        for (const r of results) {
          if (r.ok && r.code !== 'unchanged') suspended++;
          // NOTE: a SIM the network refused keeps its term in force and is tried again on the next pass.
          else if (r.code === 'provisioning_failed' || r.code === 'concurrent_change') done.delete(r.iccid);
        }
      }
      await repo.setStatus(this.db, [...done], ['in_term'], 'expired', this.clock.now());
      if (due.length < BATCH || done.size === 0) break;
    }
    return suspended;
  }

  /** Cancels (销卡: deactivates) SIMs whose term expired and that were not renewed by the 22nd of the next month. */
  async cancelUnrenewed(): Promise<number> {
    let cancelled = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await repo.dueCancellations(this.db, now, BATCH);
      if (due.length === 0) break;
      const rows = await sims.findSimRows(this.db, due.map((t) => t.iccid), ALL);
      const byIccid = new Map(due.map((t) => [t.iccid, t]));
      const done = new Set(due.map((t) => t.iccid));
      const cancellable = rows.filter((r) => ['active', 'test', 'silent', 'suspended'].includes(r.state));
      for (const group of byExpiry(cancellable, byIccid)) {
        const results = await this.lifecycle.transition(
          group.rows,
          { state: 'deactivated', reason: `销卡: prepaid term expired on ${group.term.expiry_date} and was not renewed by the 22nd of the following month` },
          { source: 'system', actor: 'system:orders' },
        );
        for (const r of results) {
          if (r.ok && r.code !== 'unchanged') cancelled++;
          else if (r.code === 'provisioning_failed' || r.code === 'concurrent_change') done.delete(r.iccid);
        }
      }
      await repo.setStatus(this.db, [...done], ['in_term', 'expired'], 'cancelled', this.clock.now());
      if (due.length < BATCH || done.size === 0) break;
    }
    return cancelled;
  }
}

/** SIM rows grouped by the expiry date (and time zone) of their terms: one state change, one reason, per group. */
function byExpiry(rows: SimRow[], terms: Map<string, TermRow>): { term: TermRow; rows: SimRow[] }[] {
  const groups = new Map<string, { term: TermRow; rows: SimRow[] }>();
  for (const row of rows) {
    const term = terms.get(row.iccid)!;
    const key = `${term.account_id} ${term.expiry_date}`;
    const g = groups.get(key) ?? { term, rows: [] };
    g.rows.push(row);
    groups.set(key, g);
  }
  return [...groups.values()];
}

function viewOf(t: TermRow, timeZone: string, now: Date): TermView {
  const expiry = termEndingIn(t.last_month, timeZone);
  const w = renewalWindow(expiry, timeZone);
  return {
    iccid: t.iccid,
    accountId: t.account_id,
    expiryDate: t.expiry_date,
    expiresAt: t.expires_at,
    lastRenewalDate: w.lastRenewalDate,
    cancelAt: t.cancel_at,
    status: t.status === 'cancelled' ? 'cancelled' : termStatus(expiry, now, timeZone),
    remindedDays: t.reminded_days,
    stored: true,
  };
}

/**
 * Rules at run time: the compiled rule sets and what has fired, in memory; observations from the usage engine
 * evaluated synchronously after each commit; firings recorded in batches and their actions run by one worker.
 */
import type { Logger } from 'pino';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { localDate } from '../../shared/time-zone.ts';
import type { StateChangedEvent } from '../sims/lifecycle.service.ts';
import { type ActionBatch, type EventOutlet, firedEvent, newActionBatch, type OutgoingEvent, type RuleActions } from './rule-actions.ts';
import * as repo from './rule.repository.ts';
import type { ActionResult, NewFiring, RuleFiring } from './rule.repository.ts';
import { type Candidate, evaluateObservation, inScope, type Observation, type ObservedSim, RuleSets } from './rule-set.ts';
import { conditionsHold, FiringMemory, periodKey, type Rule, SCHEDULED_TRIGGERS, type Subject } from './rule.ts';

interface Attributes {
  groupId: string | null;
  labels: string[];
  customFields: Record<string, string>;
}

/** How far back the memory of firings reaches (longer than a cycle, so once-per-cycle holds after a restart). */
const MEMORY_MS = 40 * 86_400_000;
const FLUSH_RETRY_MS = 1000;
const WORKER_BATCH = 100;
const DUE_LIMIT = 10_000;
const UNKNOWN_RELOAD_MS = 5000;

export interface RuleRuntimeDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  actions: RuleActions;
  outlet: () => EventOutlet;
  /** Every SIM in the engine's memory and one by ICCID (for group totals and state changes). */
  allSims: () => Iterable<ObservedSim>;
  simByIccid: (iccid: string) => ObservedSim | undefined;
}

export class RuleRuntime {
  private sets = RuleSets.empty();
  private rulesById = new Map<string, Rule>();
  private readonly attributes = new Map<string, Attributes>();
  private readonly attributesLoading = new Set<string>();
  /** Accounts whose SIM attributes are in memory. */
  private readonly loadedAccounts = new Set<string>();
  /** ICCIDs known never to have been online (for first attach); filled for accounts with first-attach rules. */
  private readonly neverSeen = new Set<string>();
  private readonly lastImei = new Map<string, string>();
  private readonly memory = new FiringMemory();
  private readonly groupTotals = new Map<string, number>();
  private groupMembers: Map<string, string[]> | undefined;
  private buffer: NewFiring[] = [];
  private events: OutgoingEvent[] = [];
  private flushing: Promise<void> | undefined;
  private flushQueued = false;
  private working: Promise<void> | undefined;
  private workAgain = false;
  private reloading = Promise.resolve();
  private stopped = false;
  /** Counters for the benchmark and the logs. */
  readonly stats = { observed: 0, candidates: 0, recorded: 0, thresholdEvents: 0 };

  constructor(private readonly d: RuleRuntimeDeps) {}

  /** Loads rules, SIM attributes for the accounts that have rules, and the memory of recent firings; then runs the queue. */
  async start(): Promise<{ rules: number; accounts: number }> {
    await this.reload();
    const since = new Date(this.d.clock.now().getTime() - MEMORY_MS);
    for (const f of await repo.recentFirings(this.d.db, since)) this.memory.remember(f.ruleId, f.subjectId, f.period, f.stage, f.firedAt.getTime());
    this.wake();
    return { rules: this.rulesById.size, accounts: this.sets.accounts };
  }

  /** Compiles the rules again (after a change); one reload after the other. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.load()).catch((err: unknown) => this.d.log.error({ err }, 'could not reload automation rules'));
    return this.reloading;
  }

  private async load(): Promise<void> {
    const [rules, paths] = await Promise.all([repo.loadEnabledRules(this.d.db), repo.accountPaths(this.d.db)]);
    const sets = RuleSets.compile(rules, paths);
    const accounts = [...paths.keys()].filter((a) => sets.hasRules(a));
    const missing = accounts.filter((a) => !this.loadedAccounts.has(a));
    if (missing.length) {
      for (const a of await repo.simAttributes(this.d.db, { accountIds: missing })) this.attributes.set(a.iccid, { groupId: a.groupId, labels: a.labels, customFields: a.customFields });
      const never = await this.d.db.selectFrom('sims').select('iccid').where('account_id', 'in', missing).where('last_seen_at', 'is', null).execute();
      for (const r of never) this.neverSeen.add(r.iccid);
      for (const a of missing) this.loadedAccounts.add(a);
      this.groupMembers = undefined;
    }
    this.sets = sets;
    this.rulesById = new Map(rules.map((r) => [r.id, r]));
  }


  /** Reads the attributes of SIMs again after they changed (group, labels, custom fields, owner). */
  simsUpdated(iccids: string[]): void {
    const known = iccids.filter((i) => this.attributes.has(i) || this.attributesLoading.has(i));
    if (known.length) this.loadAttributes(known);
  }

  private loadAttributes(iccids: string[]): void {
    for (const i of iccids) this.attributesLoading.add(i);
    repo
      .simAttributes(this.d.db, { iccids })
      .then((rows) => {
        for (const a of rows) this.attributes.set(a.iccid, { groupId: a.groupId, labels: a.labels, customFields: a.customFields });
        this.groupMembers = undefined;
        this.groupTotals.clear();
      })
      .catch((err: unknown) => this.d.log.error({ err }, 'could not read SIM attributes for rules'))
      .finally(() => iccids.forEach((i) => this.attributesLoading.delete(i)));
  }

  private readonly attributesOf = (iccid: string): Attributes | undefined => {
    const a = this.attributes.get(iccid);
    // NOTE: a SIM imported since the load is read once, beside the hot path; its rules apply from its next packet.
    if (!a && !this.attributesLoading.has(iccid)) this.loadAttributes([iccid]);
    return a;
  };

  private readonly groupUsage = (groupId: string, period: 'day' | 'cycle', sim: ObservedSim, bytes: number) => {
    const day = sim.usageDay ?? '';
    const key = `${groupId}|${period === 'day' ? day : day.slice(0, 7)}`;
    const total = this.groupTotals.get(key);
    if (total !== undefined) {
      this.groupTotals.set(key, total + bytes);
      return { beforeBytes: total, afterBytes: total + bytes };
    }
    let sum = 0;
    for (const iccid of this.membersOf(groupId)) {
      const m = this.d.simByIccid(iccid);
      if (!m) continue;
      if (period === 'day' && m.usageDay === day) sum += m.usageDayBytes;
      if (period === 'cycle' && m.usageCycle === day.slice(0, 7)) sum += m.usageCycleBytes;
    }
    this.groupTotals.set(key, sum);
    return { beforeBytes: sum - bytes, afterBytes: sum };
  };

  private membersOf(groupId: string): string[] {
    if (!this.groupMembers) {
      const m = new Map<string, string[]>();
      for (const [iccid, a] of this.attributes) {
        if (!a.groupId) continue;
        const list = m.get(a.groupId);
        if (list) list.push(iccid);
        else m.set(a.groupId, [iccid]);
      }
      this.groupMembers = m;
    }
    return this.groupMembers.get(groupId) ?? [];
  }

  /** Whether SIMs of the account have rules (the engine builds no observation otherwise). */
  readonly wants = (accountId: string): boolean => {
    if (this.sets.hasRules(accountId)) return true;
    if (!this.sets.knows(accountId) && Date.now() - this.unknownReloadAt > UNKNOWN_RELOAD_MS) {
      // NOTE: an account created since the last compilation may sit below accounts with rules; compile again (rarely).
      this.unknownReloadAt = Date.now();
      void this.reload();
    }
    return false;
  };
  private unknownReloadAt = 0;

  /**
   * Evaluates what the engine just made durable for one SIM. Synchronous and allocation-free for a SIM without
   * applicable rules; firings are recorded and acted on later.
   */
  observe(o: Observation, crossed?: { percents: readonly number[]; of: 'sim' | 'pool'; planId: string; cycle: string; usedBytes: number; allowanceBytes: number }): void {
    if (crossed && crossed.percents.length) this.thresholdEvent(o, crossed);
    if (!this.wants(o.sim.accountId)) return;
    this.stats.observed++;
    if (o.session) {
      const iccid = o.sim.iccid;
      const known = this.lastImei.get(iccid);
      if (o.session.imei) {
        if (known && !o.session.previousImei) o.session.previousImei = known;
        this.lastImei.set(iccid, o.session.imei);
      }
      if (o.session.startedNow && this.neverSeen.delete(iccid)) o.session.firstAttach = true;
    }
    this.consider(evaluateObservation(this.sets, o, this.attributesOf, this.groupUsage), o.at);
  }

  /** A committed state change (from the lifecycle): state-change rules. */
  stateChanged(e: StateChangedEvent): void {
    const rules = this.sets.rulesFor(e.accountId, 'state_change');
    if (!rules) return;
    const sim = this.d.simByIccid(e.iccid);
    const view: ObservedSim = sim ? { ...sim, state: e.to } : { iccid: e.iccid, accountId: e.accountId, timezone: 'UTC', state: e.to, planId: null, usageDay: null, usageDayBytes: 0, usageCycle: null, usageCycleBytes: 0 };
    const attrs = this.attributes.get(e.iccid);
    const out: Candidate[] = [];
    for (const rule of rules) {
      const t = rule.trigger;
      if (t.type !== 'state_change') continue;
      if ((t.to && !t.to.includes(e.to)) || (t.from && !t.from.includes(e.from))) continue;
      if (!this.holdsFor(rule, view, attrs)) continue;
      const day = localDate(e.at, view.timezone);
      out.push({ rule, subject: { kind: 'sim', id: e.iccid }, iccid: e.iccid, subjectAccountId: e.accountId, period: periodKey(rule, `${day}:${e.at.getTime()}`, e.at), stage: `${e.from}>${e.to}`, inputs: { from: e.from, to: e.to, reason: e.reason, source: e.source } });
    }
    this.consider(out, e.at);
  }

  /** An alert raised by a policy: policy-violation rules of its type. */
  alertRaised(a: { accountId: string; type: string; subject: { kind: string; id: string }; message: string }, at: Date): void {
    const rules = this.sets.rulesFor(a.accountId, 'policy_violation');
    if (!rules || a.subject.kind !== 'sim') return;
    const sim = this.d.simByIccid(a.subject.id);
    if (!sim) return;
    const out: Candidate[] = [];
    for (const rule of rules) {
      if (rule.trigger.type !== 'policy_violation' || rule.trigger.alertType !== a.type) continue;
      if (!this.holdsFor(rule, sim, this.attributes.get(sim.iccid))) continue;
      out.push({ rule, subject: { kind: 'sim', id: sim.iccid }, iccid: sim.iccid, subjectAccountId: sim.accountId, period: periodKey(rule, localDate(at, sim.timezone), at), stage: a.type, inputs: { alertType: a.type, message: a.message } });
    }
    this.consider(out, at);
  }

  private holdsFor(rule: Rule, sim: ObservedSim, attrs: Attributes | undefined): boolean {
    if (!inScope(rule, sim, attrs?.groupId ?? null)) return false;
    return conditionsHold(rule.conditions, { accountId: sim.accountId, state: sim.state, planId: sim.planId, groupId: attrs?.groupId ?? null, labels: attrs?.labels ?? [], customFields: attrs?.customFields ?? {}, country: null });
  }

  /**
   * Time-based triggers (offline longer than N minutes, test period ending, expiry in N days), from the database.
   * Run by the scheduler; returns how many firings it recorded.
   */
  async runScheduled(): Promise<number> {
    const now = this.d.clock.now();
    const before = this.stats.recorded;
    for (const rule of this.rulesById.values()) {
      const t = rule.trigger;
      if (!SCHEDULED_TRIGGERS.includes(t.type)) continue;
      const path = (await this.d.db.selectFrom('accounts').select('path').where('id', '=', rule.scope.kind === 'account' ? rule.scope.id : rule.accountId).executeTakeFirst())?.path;
      if (!path) continue;
      const out: Candidate[] = [];
      const add = (sim: repo.DueSim, natural: string, stage: string, inputs: Record<string, unknown>) => {
        const view = { iccid: sim.iccid, planId: sim.planId };
        if (!inScope(rule, view, sim.groupId)) return;
        if (!conditionsHold(rule.conditions, { ...sim, country: null })) return;
        out.push({ rule, subject: { kind: 'sim', id: sim.iccid }, iccid: sim.iccid, subjectAccountId: sim.accountId, period: periodKey(rule, natural, now), stage, inputs });
      };
      if (t.type === 'offline') {
        // NOTE: one firing per offline spell: its period is the moment the SIM was last seen.
        const due = await repo.dueSims(this.d.db, path, 'offline', new Date(now.getTime() - MEMORY_MS), new Date(now.getTime() - t.minutes * 60_000), DUE_LIMIT);
        for (const s of due) add(s, s.at.toISOString(), '', { lastSeenAt: s.at.toISOString(), offlineMinutes: Math.floor((now.getTime() - s.at.getTime()) / 60_000) });
      } else if (t.type === 'test_period_ending') {
        const due = await repo.dueSims(this.d.db, path, 'test_period_ending', now, new Date(now.getTime() + t.days * 86_400_000), DUE_LIMIT);
        for (const s of due) add(s, s.at.toISOString(), String(t.days), { testEndsAt: s.at.toISOString(), days: t.days });
      } else if (t.type === 'expiry') {
        const longest = Math.max(...t.days);
        const due = await repo.dueSims(this.d.db, path, 'expiry', now, new Date(now.getTime() + longest * 86_400_000), DUE_LIMIT);
        for (const s of due) {
          const daysLeft = (s.at.getTime() - now.getTime()) / 86_400_000;
          // NOTE: only the nearest stage reached fires (a SIM found 10 days before expiry gets the 15-day notice, not also the 30-day one).
          const stage = [...t.days].sort((a, b) => a - b).find((d) => daysLeft <= d);
          if (stage !== undefined) add(s, s.at.toISOString(), String(stage), { expiresAt: s.at.toISOString(), days: stage, daysLeft: Math.floor(daysLeft) });
        }
      }
      this.consider(out, now);
    }
    await this.flush();
    this.memory.prune(now.getTime() - MEMORY_MS);
    return this.stats.recorded - before;
  }

  /** Drops candidates that fired already in their period and stage, or fall within the rule's cool-down; buffers the rest. */
  private consider(candidates: Candidate[], at: Date): void {
    if (candidates.length === 0) return;
    const ms = at.getTime();
    for (const c of candidates) {
      this.stats.candidates++;
      if (!this.memory.admit(c.rule, c.subject.id, c.period, c.stage, ms)) continue;
      this.buffer.push({
        ruleId: c.rule.id,
        accountId: c.rule.accountId,
        subject: c.subject,
        subjectAccountId: c.subjectAccountId,
        iccid: c.iccid,
        period: c.period,
        stage: c.stage,
        inputs: c.inputs,
        actions: c.rule.actions.map((a) => ({ type: a.type, status: 'pending', detail: null })),
        firedAt: at,
      });
    }
    this.scheduleFlush();
  }


  private thresholdEvent(o: Observation, c: { percents: readonly number[]; of: 'sim' | 'pool'; planId: string; cycle: string; usedBytes: number; allowanceBytes: number }): void {
    const pool = c.of === 'pool' ? `${o.sim.accountId}|${c.planId}` : null;
    for (const percent of c.percents) {
      this.stats.thresholdEvents++;
      this.events.push({
        type: 'usage.threshold_crossed',
        accountId: o.sim.accountId,
        subject: { kind: 'sim', id: o.sim.iccid },
        data: { iccid: o.sim.iccid, of: c.of, pool, planId: c.planId, cycle: c.cycle, percent, usedBytes: c.usedBytes, allowanceBytes: c.allowanceBytes, at: o.at.toISOString() },
      });
    }
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued || this.stopped) return;
    this.flushQueued = true;
    // NOTE: firings of one turn of the event loop are recorded together, beside the hot path.
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  /** Records buffered firings and publishes buffered events; a failed write is tried again a second later. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length || this.events.length) {
      const firings = this.buffer;
      const events = this.events;
      this.buffer = [];
      this.events = [];
      try {
        const outlet = this.d.outlet();
        const at = this.d.clock.now();
        // NOTE: firings and threshold events of one batch commit together, and so do the firings of rules that only
        // publish events with those events: they are recorded as done, and only the others wait for the worker.
        const recorded = await this.d.db.transaction().execute(async (trx) => {
          const done = firings.map((f) => {
            const rule = this.rulesById.get(f.ruleId);
            return rule && this.d.actions.resultsWithRecording(rule);
          });
          const rows = await repo.insertFirings(
            trx,
            firings.map((f, i) => (done[i] ? { ...f, actions: done[i], completedAt: at } : f)),
          );
          const fired = rows.filter((r) => r.status === 'done').map((r) => ({ ...firedEvent(this.rulesById.get(r.ruleId)!, r), occurredAt: r.firedAt }));
          const all = [...events, ...fired];
          if (all.length && outlet.available) await outlet.publish(trx, all, at);
          return rows;
        });
        this.stats.recorded += recorded.length;
        if (recorded.some((r) => r.status === 'pending')) this.wake();
      } catch (err) {
        this.d.log.error({ err, firings: firings.length, events: events.length }, 'could not record rule firings; trying again');
        this.buffer = firings.concat(this.buffer);
        this.events = events.concat(this.events);
        if (!this.stopped) setTimeout(() => void this.flush(), FLUSH_RETRY_MS).unref();
        return;
      }
    }
  }

  /** Runs the actions of pending firings (those recorded now, and any left by a stop). */
  wake(): void {
    if (this.stopped) return;
    if (this.working) {
      this.workAgain = true;
      return;
    }
    this.working = this.work().finally(() => {
      this.working = undefined;
      if (this.workAgain) {
        this.workAgain = false;
        this.wake();
      }
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const pending = await repo.pendingFirings(this.d.db, WORKER_BATCH).catch((err: unknown) => {
        this.d.log.error({ err }, 'could not read pending rule firings');
        return [] as RuleFiring[];
      });
      if (pending.length === 0 || this.stopped) return;
      const batch = newActionBatch();
      const done: { id: number; actions: ActionResult[] }[] = [];
      for (const f of pending) {
        const rule = this.rulesById.get(f.ruleId) ?? (await this.findRule(f.ruleId));
        // NOTE: actions are at least once: a stop between running them and completing the firing runs them again.
        // The `rule.fired` events of webhook actions commit with the completion, so those happen exactly once.
        const actions = rule
          ? await this.d.actions.run(rule, f, batch)
          : f.actions.map((a) => ({ ...a, status: 'skipped' as const, detail: 'rule disabled or deleted before its actions ran' }));
        done.push({ id: f.id, actions });
      }
      try {
        await this.complete(done, batch);
      } catch (err) {
        this.d.log.error({ err, firings: done.length }, 'could not complete rule firings; trying again');
        if (!this.stopped) setTimeout(() => this.wake(), FLUSH_RETRY_MS).unref();
        return;
      }
    }
  }

  /** Completes acted-on firings and publishes the events of their webhook actions, in one transaction. */
  private async complete(done: { id: number; actions: ActionResult[] }[], batch: ActionBatch): Promise<void> {
    const outlet = this.d.outlet();
    const now = this.d.clock.now();
    await this.d.db.transaction().execute(async (trx) => {
      if (batch.events.length) await outlet.publish(trx, batch.events, now);
      await repo.completeFirings(trx, done, now);
    });
  }

  private async findRule(id: string): Promise<Rule | undefined> {
    return repo.findRule(this.d.db, id, '/');
  }

  /** Waits until buffered firings are recorded and every pending firing has been acted on (tests, stop). */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await this.flush();
      await this.working;
      if (!this.buffer.length && !this.working && !this.flushing && (await repo.pendingFirings(this.d.db, 1)).length === 0) return;
      this.wake();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    await this.working;
  }

  /** Subject key of a pool for firings. */
  static poolSubject(accountId: string, planId: string): Subject {
    return { kind: 'pool', id: `${accountId}|${planId}` };
  }
}

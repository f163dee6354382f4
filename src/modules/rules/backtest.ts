/**
 * Backtest: a rule replayed over recorded usage, sessions and state changes, listing what it would have done.
 * Pure: the caller reads the history; nothing is recorded and no action runs.
 */
import { localDate } from '../../shared/time-zone.ts';
import { evaluateObservation, inScope, type Observation, type ObservedSim, RuleSets } from './rule-set.ts';
import { conditionsHold, FiringMemory, periodKey, type Rule, type Subject } from './rule.ts';

export interface HistorySim {
  iccid: string;
  accountId: string;
  timezone: string;
  state: string;
  planId: string | null;
  groupId: string | null;
  labels: string[];
  customFields: Record<string, string>;
}

export interface HistoryUsage {
  iccid: string;
  at: Date;
  bytes: number;
  mccMnc: string | null;
  sessionId: string | null;
}

export interface HistorySession {
  id: string;
  iccid: string;
  startedAt: Date;
  stoppedAt: Date | null;
  mccMnc: string | null;
  imei: string | null;
}

export interface HistoryStateChange {
  iccid: string;
  at: Date;
  from: string;
  to: string;
  reason: string | null;
}

export interface History {
  sims: Map<string, HistorySim>;
  /** Included data per plan id (bytes per SIM and cycle). */
  planAllowance: Map<string, { includedBytes: number; pooled: boolean }>;
  /** Usage from the start of the earliest cycle touched by the window, oldest first. */
  usage: HistoryUsage[];
  /** Sessions that overlap the window, and the SIM's session before it (for first attach and IMEI changes). */
  sessions: HistorySession[];
  stateChanges: HistoryStateChange[];
  /** SIMs that had a session before the window (not a first attach). */
  seenBefore: Set<string>;
}

export interface SimulatedFiring {
  subject: Subject;
  iccid: string | null;
  at: Date;
  period: string;
  stage: string;
  inputs: Record<string, unknown>;
  actions: { type: string; status: 'simulated' }[];
}

export interface BacktestResult {
  from: Date;
  to: Date;
  firings: SimulatedFiring[];
  /** True when more firings would have happened than are listed. */
  truncated: boolean;
  notes: string[];
}

const NOT_REPLAYED: Record<string, string> = {
  test_period_ending: 'test period ends are not replayed: the history does not keep past test periods',
  expiry: 'expiry reminders are not replayed: the history does not keep past expiry dates',
  policy_violation: 'policy violations are not replayed: alerts are outside the usage history',
};

type Timeline =
  | { at: Date; kind: 'usage'; u: HistoryUsage }
  | { at: Date; kind: 'start' | 'stop'; s: HistorySession }
  | { at: Date; kind: 'state'; c: HistoryStateChange };

/**
 * Replays `rule` over `history` for [from, to): usage figures per day and cycle are rebuilt from the start of the
 * cycle, so stages cross where they did; conditions are judged on the SIMs' current attributes.
 */
export function backtest(rule: Rule, history: History, from: Date, to: Date, limit: number): BacktestResult {
  const notes: string[] = ['conditions are judged on the SIMs\u2019 current group, plan, labels, custom fields and state'];
  const out: SimulatedFiring[] = [];
  let truncated = false;
  const memory = new FiringMemory();
  const t = rule.trigger;
  if (NOT_REPLAYED[t.type]) return { from, to, firings: [], truncated: false, notes: [...notes, NOT_REPLAYED[t.type]!] };
  const emit = (subject: Subject, iccid: string | null, at: Date, period: string, stage: string, inputs: Record<string, unknown>) => {
    if (at < from || at >= to) return;
    if (!memory.admit(rule, subject.id, period, stage, at.getTime())) return;
    if (out.length >= limit) {
      truncated = true;
      return;
    }
    out.push({ subject, iccid, at, period, stage, inputs, actions: rule.actions.map((a) => ({ type: a.type, status: 'simulated' })) });
  };
  const facts = (sim: HistorySim, state = sim.state) => ({ ...sim, state, country: null });
  const applies = (sim: HistorySim, state?: string) => inScope(rule, sim, sim.groupId) && conditionsHold(rule.conditions, facts(sim, state));

  const events: Timeline[] = [
    ...history.usage.map((u): Timeline => ({ at: u.at, kind: 'usage', u })),
    ...history.sessions.flatMap((s): Timeline[] => [{ at: s.startedAt, kind: 'start', s }, ...(s.stoppedAt ? [{ at: s.stoppedAt, kind: 'stop' as const, s }] : [])]),
    ...history.stateChanges.map((c): Timeline => ({ at: c.at, kind: 'state', c })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());

  // NOTE: the history holds only SIMs the rule reaches; scope and conditions are checked by `applies` before each
  // evaluation, so the compiled copy covers every SIM of the history unconditionally.
  const paths = new Map([rule.accountId, ...[...history.sims.values()].map((s) => s.accountId)].map((a) => [a, '/']));
  const sets = RuleSets.compile([{ ...rule, enabled: true, scope: { kind: 'account', id: rule.accountId }, conditions: undefined }], paths);
  const figures = new Map<string, ObservedSim>();
  const groupTotals = new Map<string, number>();
  const poolTotals = new Map<string, number>();
  const poolMembers = new Map<string, number>();
  for (const s of history.sims.values()) {
    if (s.planId && history.planAllowance.get(s.planId)?.pooled) poolMembers.set(`${s.accountId}|${s.planId}`, (poolMembers.get(`${s.accountId}|${s.planId}`) ?? 0) + 1);
  }
  const lastMccMnc = new Map<string, string>();
  const lastImei = new Map<string, string>();
  const lastStop = new Map<string, Date>();
  const seen = new Set(history.seenBefore);

  for (const e of events) {
    const iccid = e.kind === 'usage' ? e.u.iccid : e.kind === 'state' ? e.c.iccid : e.s.iccid;
    const sim = history.sims.get(iccid);
    if (!sim) continue;
    const day = localDate(e.at, sim.timezone);
    let f = figures.get(iccid);
    if (!f) figures.set(iccid, (f = { iccid, accountId: sim.accountId, timezone: sim.timezone, state: sim.state, planId: sim.planId, usageDay: day, usageDayBytes: 0, usageCycle: day.slice(0, 7), usageCycleBytes: 0 }));
    if (f.usageDay !== day) Object.assign(f, { usageDay: day, usageDayBytes: 0 });
    if (f.usageCycle !== day.slice(0, 7)) Object.assign(f, { usageCycle: day.slice(0, 7), usageCycleBytes: 0 });

    if (e.kind === 'state') {
      if (t.type === 'state_change' && (!t.to || t.to.includes(e.c.to as never)) && (!t.from || t.from.includes(e.c.from as never)) && applies(sim, e.c.to)) {
        emit({ kind: 'sim', id: iccid }, iccid, e.at, periodKey(rule, `${day}:${e.at.getTime()}`, e.at), `${e.c.from}>${e.c.to}`, { from: e.c.from, to: e.c.to, reason: e.c.reason });
      }
      continue;
    }
    if (e.kind === 'start' || e.kind === 'stop') {
      if (t.type === 'offline' && e.kind === 'start') {
        const stop = lastStop.get(iccid);
        if (stop && e.at.getTime() - stop.getTime() > t.minutes * 60_000 && applies(sim)) {
          emit({ kind: 'sim', id: iccid }, iccid, new Date(stop.getTime() + t.minutes * 60_000), stop.toISOString(), '', { lastSeenAt: stop.toISOString(), offlineMinutes: Math.floor((e.at.getTime() - stop.getTime()) / 60_000) });
        }
      }
      if (e.kind === 'stop') lastStop.set(iccid, e.at);
      else lastStop.delete(iccid);
      if (t.type === 'offline') continue;
      const previousImei = lastImei.get(iccid) ?? null;
      if (e.s.imei) lastImei.set(iccid, e.s.imei);
      const firstAttach = e.kind === 'start' && !seen.has(iccid);
      if (e.kind === 'start') seen.add(iccid);
      if (!applies(sim)) continue;
      const o: Observation = {
        sim: f,
        at: e.at,
        bytes: 0,
        session: { startedNow: e.kind === 'start', stoppedNow: e.kind === 'stop', mccMnc: e.s.mccMnc, imei: e.s.imei, previousMccMnc: lastMccMnc.get(iccid) ?? null, previousImei, firstAttach },
      };
      if (e.s.mccMnc) lastMccMnc.set(iccid, e.s.mccMnc);
      for (const c of evaluateObservation(sets, o, () => sim, () => ({ beforeBytes: 0, afterBytes: 0 }))) emit(c.subject, c.iccid, e.at, c.period, c.stage, c.inputs);
      continue;
    }
    const u = (e as Extract<Timeline, { kind: 'usage' }>).u;
    f.usageDayBytes += u.bytes;
    f.usageCycleBytes += u.bytes;
    const cycle = day.slice(0, 7);
    const plan = sim.planId ? history.planAllowance.get(sim.planId) : undefined;
    const o: Observation = { sim: f, at: e.at, bytes: u.bytes };
    if (plan && !plan.pooled) o.allowance = { sizeBytes: plan.includedBytes, usedBeforeBytes: f.usageCycleBytes - u.bytes, usedAfterBytes: f.usageCycleBytes };
    if (plan?.pooled) {
      const key = `${sim.accountId}|${sim.planId}`;
      const tk = `${key}|${cycle}`;
      const before = poolTotals.get(tk) ?? 0;
      poolTotals.set(tk, before + u.bytes);
      o.pool = { key, cycle, sizeBytes: plan.includedBytes * (poolMembers.get(key) ?? 1), usedBeforeBytes: before, usedAfterBytes: before + u.bytes };
    }
    const previousMccMnc = lastMccMnc.get(iccid) ?? null;
    if (u.mccMnc) {
      lastMccMnc.set(iccid, u.mccMnc);
      o.session = { startedNow: false, stoppedNow: false, mccMnc: u.mccMnc, imei: null, previousMccMnc, previousImei: null, firstAttach: false };
    }
    if (!applies(sim)) continue;
    const groupUsage = (groupId: string, period: 'day' | 'cycle', _s: ObservedSim, bytes: number) => {
      const k = `${groupId}|${period === 'day' ? day : cycle}`;
      const before = groupTotals.get(k) ?? 0;
      groupTotals.set(k, before + bytes);
      return { beforeBytes: before, afterBytes: before + bytes };
    };
    for (const c of evaluateObservation(sets, o, () => sim, groupUsage)) emit(c.subject, c.iccid, e.at, c.period, c.stage, c.inputs);
  }
  if (t.type === 'offline') {
    for (const [iccid, stop] of lastStop) {
      const sim = history.sims.get(iccid);
      const due = new Date(stop.getTime() + t.minutes * 60_000);
      if (sim && due < to && applies(sim)) emit({ kind: 'sim', id: iccid }, iccid, due, stop.toISOString(), '', { lastSeenAt: stop.toISOString(), offlineMinutes: Math.floor((to.getTime() - stop.getTime()) / 60_000) });
    }
  }
  out.sort((a, b) => a.at.getTime() - b.at.getTime());
  return { from, to, firings: out, truncated, notes };
}

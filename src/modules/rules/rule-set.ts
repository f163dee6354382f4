/**
 * Rule sets compiled per account, and the evaluation of engine triggers against one observation of usage or of a
 * session: pure, no I/O. A SIM whose account has no applicable rule costs one map lookup.
 */
import { countryOfMcc } from '../network/plmn.ts';
import { localDate } from '../../shared/time-zone.ts';
import { conditionsHold, needsAttributes, periodKey, type Rule, type SimFacts, stageBytes, stagesCrossed, type Subject, type TriggerType } from './rule.ts';

/** The usage engine's view of a SIM, as far as rules need it. */
export interface ObservedSim {
  iccid: string;
  accountId: string;
  timezone: string;
  state: string;
  planId: string | null;
  usageDay: string | null;
  usageDayBytes: number;
  usageCycle: string | null;
  usageCycleBytes: number;
}

/** An allowance before and after a delta: the SIM's own included data, or its pool's. */
export interface AllowanceUse {
  sizeBytes: number;
  usedBeforeBytes: number;
  usedAfterBytes: number;
}

/** What the engine committed for one packet (or one SIM's CDR rows). */
export interface Observation {
  sim: ObservedSim;
  at: Date;
  /** Bytes counted by this delta. */
  bytes: number;
  allowance?: AllowanceUse;
  pool?: AllowanceUse & { key: string; cycle: string };
  session?: {
    startedNow: boolean;
    stoppedNow: boolean;
    mccMnc: string | null;
    imei: string | null;
    previousMccMnc: string | null;
    previousImei: string | null;
    /** First session the SIM ever had. */
    firstAttach: boolean;
  };
}

/** The SIM attributes beyond the engine's: group, labels, custom fields (undefined when not known yet). */
export type AttributesOf = (iccid: string) => Pick<SimFacts, 'groupId' | 'labels' | 'customFields'> | undefined;

/** Group usage before and after the delta, in the trigger's period. */
export type GroupUsageOf = (groupId: string, period: 'day' | 'cycle', sim: ObservedSim, bytes: number) => { beforeBytes: number; afterBytes: number };

/** A rule that would fire: what for, in which period and stage, and the trigger inputs to record. */
export interface Candidate {
  rule: Rule;
  subject: Subject;
  /** The SIM whose observation caused it (the acting SIM of SIM actions). */
  iccid: string | null;
  subjectAccountId: string;
  period: string;
  stage: string;
  inputs: Record<string, unknown>;
}

interface AccountRules {
  all: Rule[];
  byTrigger: Map<TriggerType, Rule[]>;
  /** Groups whose usage some rule follows. */
  usageGroups: boolean;
}

/** Rules applicable to each account's SIMs: the rules of the account and of the accounts above it, by trigger. */
export class RuleSets {
  private constructor(
    private readonly byAccount: Map<string, AccountRules>,
    private readonly known: ReadonlySet<string>,
  ) {}

  /**
   * Compiles enabled rules for the accounts given with their materialised paths. A rule applies below its own
   * account, and an account-scoped rule below the scoped account.
   */
  static compile(rules: Rule[], paths: Map<string, string>): RuleSets {
    const byAccount = new Map<string, AccountRules>();
    const live = rules.filter((r) => r.enabled);
    const reach = live.map((r) => ({ rule: r, under: paths.get(r.scope.kind === 'account' ? r.scope.id : r.accountId) }));
    for (const [accountId, path] of paths) {
      const applicable = reach.filter((x) => x.under !== undefined && path.startsWith(x.under) && path.startsWith(paths.get(x.rule.accountId) ?? '\u0000')).map((x) => x.rule);
      if (applicable.length === 0) continue;
      const byTrigger = new Map<TriggerType, Rule[]>();
      for (const r of applicable) {
        const list = byTrigger.get(r.trigger.type);
        if (list) list.push(r);
        else byTrigger.set(r.trigger.type, [r]);
      }
      byAccount.set(accountId, { all: applicable, byTrigger, usageGroups: applicable.some((r) => r.trigger.type === 'usage' && r.trigger.of === 'group') });
    }
    return new RuleSets(byAccount, new Set(paths.keys()));
  }

  static empty(): RuleSets {
    return new RuleSets(new Map(), new Set());
  }

  /** Whether the account existed when the rules were compiled (a newer one needs a new compilation). */
  knows(accountId: string): boolean {
    return this.known.has(accountId);
  }

  /** Rules of one trigger type applicable to SIMs of the account (undefined: none). */
  rulesFor(accountId: string, type: TriggerType): Rule[] | undefined {
    return this.byAccount.get(accountId)?.byTrigger.get(type);
  }

  hasRules(accountId: string): boolean {
    return this.byAccount.has(accountId);
  }

  followsGroupUsage(accountId: string): boolean {
    return this.byAccount.get(accountId)?.usageGroups ?? false;
  }

  get accounts(): number {
    return this.byAccount.size;
  }
}

/** Whether a rule's scope covers the SIM (the account part was settled when compiling). */
export function inScope(rule: Rule, sim: Pick<ObservedSim, 'iccid' | 'planId'>, groupId: string | null): boolean {
  const s = rule.scope;
  if (s.kind === 'sim') return s.iccid === sim.iccid;
  if (s.kind === 'plan') return sim.planId === s.id;
  if (s.kind === 'group') return groupId === s.id;
  return true;
}

const countryOf = (mccMnc: string | null | undefined): string | null => (mccMnc ? countryOfMcc(mccMnc.slice(0, 3)) : null);

/** Scope and conditions for one SIM; false also when the conditions need attributes not known yet. */
export function appliesTo(rule: Rule, sim: ObservedSim, attributes: AttributesOf, mccMnc: string | null): boolean {
  const needs = rule.scope.kind === 'group' || needsAttributes(rule.conditions);
  const attrs = needs ? attributes(sim.iccid) : undefined;
  if (needs && !attrs) return false;
  if (!inScope(rule, sim, attrs?.groupId ?? null)) return false;
  if (!rule.conditions) return true;
  return conditionsHold(rule.conditions, {
    accountId: sim.accountId,
    state: sim.state,
    planId: sim.planId,
    groupId: attrs?.groupId ?? null,
    labels: attrs?.labels ?? [],
    customFields: attrs?.customFields ?? {},
    country: countryOf(mccMnc),
  });
}

const simSubject = (sim: ObservedSim): Subject => ({ kind: 'sim', id: sim.iccid });

/** The rules that an observation makes fire (before de-duplication and cool-down). */
export function evaluateObservation(sets: RuleSets, o: Observation, attributes: AttributesOf, groupUsage: GroupUsageOf): Candidate[] {
  const accountId = o.sim.accountId;
  if (!sets.hasRules(accountId)) return [];
  const out: Candidate[] = [];
  const mccMnc = o.session?.mccMnc ?? null;
  const day = localDate(o.at, o.sim.timezone);
  const cycle = day.slice(0, 7);
  const push = (rule: Rule, natural: string, stage: string, inputs: Record<string, unknown>, subject: Subject = simSubject(o.sim)) =>
    out.push({ rule, subject, iccid: o.sim.iccid, subjectAccountId: accountId, period: periodKey(rule, natural, o.at), stage, inputs });

  if (o.bytes > 0) {
    for (const rule of sets.rulesFor(accountId, 'usage') ?? []) {
      const t = rule.trigger;
      if (t.type !== 'usage' || !appliesTo(rule, o.sim, attributes, mccMnc)) continue;
      const period = t.period === 'day' ? day : cycle;
      if (t.of === 'sim') {
        let before: number;
        let after: number;
        let size: number | null = null;
        if (t.percents) {
          if (!o.allowance) continue;
          ({ usedBeforeBytes: before, usedAfterBytes: after, sizeBytes: size } = o.allowance);
        } else {
          after = t.period === 'day' ? (o.sim.usageDay === day ? o.sim.usageDayBytes : 0) : o.sim.usageCycle === cycle ? o.sim.usageCycleBytes : 0;
          before = Math.max(0, after - o.bytes);
        }
        for (const s of stagesCrossed(stageBytes(t, size), before, after)) {
          push(rule, period, String(s.stage), { period, of: 'sim', stage: s.stage, thresholdBytes: s.bytes, usedBytes: after, ...(size !== null ? { allowanceBytes: size } : {}) });
        }
      } else if (t.of === 'pool') {
        const p = o.pool;
        if (!p) continue;
        const subject: Subject = { kind: 'pool', id: p.key };
        for (const s of stagesCrossed(stageBytes(t, p.sizeBytes), p.usedBeforeBytes, p.usedAfterBytes)) {
          push(rule, p.cycle, String(s.stage), { period: p.cycle, of: 'pool', stage: s.stage, thresholdBytes: s.bytes, usedBytes: p.usedAfterBytes, allowanceBytes: p.sizeBytes }, subject);
        }
      } else {
        const groupId = attributes(o.sim.iccid)?.groupId;
        if (!groupId) continue;
        const g = groupUsage(groupId, t.period, o.sim, o.bytes);
        for (const s of stagesCrossed(stageBytes(t, null), g.beforeBytes, g.afterBytes)) {
          push(rule, period, String(s.stage), { period, of: 'group', groupId, stage: s.stage, thresholdBytes: s.bytes, usedBytes: g.afterBytes }, { kind: 'group', id: groupId });
        }
      }
    }
  }

  const session = o.session;
  if (!session) return out;
  const eventRules = (type: TriggerType) => (sets.rulesFor(accountId, type) ?? []).filter((r) => appliesTo(r, o.sim, attributes, mccMnc));
  if (session.startedNow || session.stoppedNow) {
    for (const rule of eventRules('session')) {
      const t = rule.trigger;
      if (t.type !== 'session') continue;
      if ((t.event === 'start' && session.startedNow) || (t.event === 'stop' && session.stoppedNow)) push(rule, day, t.event, { event: t.event, mccMnc });
    }
  }
  if (session.firstAttach) for (const rule of eventRules('first_attach')) push(rule, 'once', '', { mccMnc, imei: session.imei });
  if (session.imei && session.previousImei && session.imei !== session.previousImei) {
    for (const rule of eventRules('imei_change')) push(rule, day, session.imei, { imei: session.imei, previousImei: session.previousImei });
  }
  if (mccMnc && session.previousMccMnc && mccMnc !== session.previousMccMnc) {
    for (const rule of eventRules('network_change')) {
      const t = rule.trigger;
      if (t.type !== 'network_change') continue;
      const now = t.what === 'country' ? countryOf(mccMnc) : mccMnc;
      const was = t.what === 'country' ? countryOf(session.previousMccMnc) : session.previousMccMnc;
      if (now !== was) push(rule, day, now ?? '', { what: t.what, value: now, previous: was, mccMnc, previousMccMnc: session.previousMccMnc });
    }
  }
  if (mccMnc) {
    for (const rule of eventRules('network_not')) {
      const t = rule.trigger;
      if (t.type === 'network_not' && !t.mccMnc.includes(mccMnc)) push(rule, day, mccMnc, { mccMnc, allowed: t.mccMnc });
    }
  }
  return out;
}

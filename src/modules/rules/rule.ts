/**
 * Automation rules (自动化规则): a trigger, conditions and actions, scoped to an account, a group, a plan or a SIM.
 * Types, the zod contract of a rule's definition and the pure decisions (conditions, stages, periods); no I/O.
 */
import { z } from 'zod';
import { SIM_STATES } from '../sims/sim.ts';

export const MB = 1024 * 1024;

const Id = z.string().min(1).max(100);
const Iccid = z.string().regex(/^\d{19,20}$/, 'must be an ICCID of 19-20 digits');
const MccMnc = z.string().regex(/^\d{5,6}$/, 'must be an MCC-MNC of 5 or 6 digits, e.g. 46000');
const State = z.enum(SIM_STATES);

export const RuleScopeSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('account'), id: Id.describe('the account; the rule covers it and the accounts below it') }).strict(),
    z.object({ kind: z.literal('group'), id: Id }).strict(),
    z.object({ kind: z.literal('plan'), id: Id }).strict(),
    z.object({ kind: z.literal('sim'), iccid: Iccid }).strict(),
  ])
  .meta({ id: 'RuleScope' });

const stages = (what: string, max: number) =>
  z
    .array(z.number().positive().max(max))
    .min(1)
    .max(10)
    .refine((a) => new Set(a).size === a.length, `${what} must not repeat`)
    .describe(`one stage per value; each stage fires once per period`);

export const RuleTriggerSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('usage'),
        period: z.enum(['cycle', 'day']).default('cycle').describe('the billing cycle (calendar month) or the day, in the account time zone'),
        of: z.enum(['sim', 'group', 'pool']).default('sim').describe("whose usage: the SIM's, its group's, or its pool's"),
        percents: stages('percents', 1000).optional().describe("stages in percent of the allowance (the SIM's included data, or the pool's)"),
        megabytes: stages('megabytes', 10_000_000).optional().describe('stages in MB (1 MB = 1,048,576 bytes)'),
      })
      .strict(),
    z.object({ type: z.literal('session'), event: z.enum(['start', 'stop']) }).strict(),
    z.object({ type: z.literal('offline'), minutes: z.number().int().min(1).max(525_600) }).strict(),
    z.object({ type: z.literal('imei_change') }).strict(),
    z.object({ type: z.literal('network_change'), what: z.enum(['country', 'operator']) }).strict(),
    z.object({ type: z.literal('network_not'), mccMnc: z.array(MccMnc).min(1).max(100).describe('the networks allowed; any other fires') }).strict(),
    z.object({ type: z.literal('state_change'), to: z.array(State).min(1).optional(), from: z.array(State).min(1).optional() }).strict(),
    z.object({ type: z.literal('test_period_ending'), days: z.number().int().min(0).max(365) }).strict(),
    z.object({ type: z.literal('expiry'), days: z.array(z.number().int().min(0).max(3650)).min(1).max(10).describe('stages in days before the SIM expires, e.g. [30, 15]') }).strict(),
    z.object({ type: z.literal('first_attach') }).strict(),
    z.object({ type: z.literal('policy_violation'), alertType: z.string().min(1).max(100).describe('the alert type raised by a policy, e.g. imei_mismatch') }).strict(),
  ])
  .meta({ id: 'RuleTrigger' });

export const RuleConditionSchema = z
  .union([
    z.object({ group: z.array(Id).min(1).describe('the SIM is in one of these groups') }).strict(),
    z.object({ plan: z.array(Id).min(1).describe('the SIM is on one of these plans') }).strict(),
    z.object({ label: z.array(z.string().min(1).max(64)).min(1).describe('the SIM has one of these labels') }).strict(),
    z.object({ customField: z.object({ key: z.string().min(1).max(64), values: z.array(z.string().max(500)).min(1) }).strict() }).strict(),
    z.object({ country: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code, e.g. CN')).min(1).describe('country of the serving network') }).strict(),
    z.object({ state: z.array(State).min(1) }).strict(),
  ])
  .meta({ id: 'RuleCondition' });

export const RuleConditionsSchema = z
  .object({
    all: z.array(RuleConditionSchema).max(20).optional().describe('every one must hold (AND)'),
    any: z.array(RuleConditionSchema).max(20).optional().describe('at least one must hold (OR)'),
  })
  .strict()
  .meta({ id: 'RuleConditions' });

export const RuleActionSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('notify_email'), to: z.array(z.email()).min(1).max(20), lang: z.enum(['zh', 'en']).default('zh'), template: z.string().max(100).default('generic').describe('an e-mail template: generic, usage_threshold, prepaid_expiry, test_period_ending, sim_suspended, …') }).strict(),
    z.object({ type: z.literal('notify_sms'), to: z.string().regex(/^\d{6,15}$/, 'must be an MSISDN of 6-15 digits'), text: z.string().min(1).max(500).optional() }).strict(),
    z.object({ type: z.literal('webhook') }).strict().describe('publishes rule.fired to the webhooks subscribed to it'),
    z.object({ type: z.literal('suspend'), reason: z.string().max(200).optional() }).strict(),
    z.object({ type: z.literal('activate'), reason: z.string().max(200).optional() }).strict(),
    z.object({ type: z.literal('change_plan'), planId: Id }).strict(),
    z.object({ type: z.literal('top_up'), megabytes: z.number().int().min(1).max(10_000_000), validMonths: z.number().int().min(1).max(120).optional() }).strict(),
    z.object({ type: z.literal('device_sms'), text: z.string().min(1).max(500) }).strict(),
    z.object({ type: z.literal('reset_imei') }).strict(),
  ])
  .meta({ id: 'RuleAction' });

export const RuleDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean().default(true),
    scope: RuleScopeSchema,
    trigger: RuleTriggerSchema,
    conditions: RuleConditionsSchema.optional(),
    actions: z.array(RuleActionSchema).min(1).max(10),
    repeat: z.enum(['once_per_period', 'every_time']).default('once_per_period').describe('once per subject, period and stage (default), or every time the trigger matches'),
    cooldownMinutes: z.number().int().min(0).max(525_600).default(0).describe('least time between two firings for the same subject'),
  })
  .strict()
  .meta({ id: 'RuleDefinition' });

export type RuleScope = z.infer<typeof RuleScopeSchema>;
export type RuleTrigger = z.infer<typeof RuleTriggerSchema>;
export type RuleCondition = z.infer<typeof RuleConditionSchema>;
export type RuleConditions = z.infer<typeof RuleConditionsSchema>;
export type RuleAction = z.infer<typeof RuleActionSchema>;
export type RuleDefinition = z.infer<typeof RuleDefinitionSchema>;
export type RuleDefinitionInput = z.input<typeof RuleDefinitionSchema>;

export interface Rule extends RuleDefinition {
  id: string;
  accountId: string;
  templateId: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type TriggerType = RuleTrigger['type'];
/** Triggers the usage engine evaluates in memory after its commits. */
export const ENGINE_TRIGGERS: readonly TriggerType[] = ['usage', 'session', 'imei_change', 'network_change', 'network_not', 'first_attach'];
/** Triggers the scheduler evaluates from the database. */
export const SCHEDULED_TRIGGERS: readonly TriggerType[] = ['offline', 'test_period_ending', 'expiry'];

const SIM_ONLY_ACTIONS: readonly RuleAction['type'][] = ['suspend', 'activate', 'change_plan', 'top_up', 'device_sms', 'reset_imei'];

/** What a rule fires for: a SIM, a group or a pool (`<account>|<plan>`). */
export interface Subject {
  kind: 'sim' | 'group' | 'pool';
  id: string;
}

/** Everything wrong with a definition beyond its shape, one line each (empty: valid). */
export function ruleProblems(d: RuleDefinition): string[] {
  const out: string[] = [];
  const t = d.trigger;
  if (t.type === 'usage') {
    if ((t.percents === undefined) === (t.megabytes === undefined)) out.push('trigger.usage needs exactly one of percents or megabytes');
    if (t.percents && t.of === 'group') out.push('trigger.usage in percents needs an allowance: of "sim" or "pool", not "group" (use megabytes for a group)');
    if (t.percents && t.period === 'day') out.push('trigger.usage in percents is of the cycle allowance: period must be "cycle" (use megabytes per day)');
    if (t.of === 'pool' && t.period === 'day') out.push('trigger.usage of a pool counts the cycle: period must be "cycle"');
    if (t.of !== 'sim') {
      const simOnly = d.actions.filter((a) => SIM_ONLY_ACTIONS.includes(a.type)).map((a) => a.type);
      if (simOnly.length) out.push(`actions ${simOnly.join(', ')} act on one SIM; a rule on the usage of a ${t.of} can only notify (notify_email, notify_sms, webhook)`);
    }
  }
  if (t.type === 'state_change' && !t.to && !t.from) out.push('trigger.state_change needs to or from (or both)');
  if (d.conditions && !d.conditions.all?.length && !d.conditions.any?.length) out.push('conditions need at least one entry in all or any');
  return out;
}

/** The facts about a SIM that conditions look at. */
export interface SimFacts {
  accountId: string;
  state: string;
  planId: string | null;
  groupId: string | null;
  labels: readonly string[];
  customFields: Readonly<Record<string, string>>;
  /** Country of the serving network (ISO alpha-2), when known. */
  country: string | null;
}

function holds(c: RuleCondition, f: SimFacts): boolean {
  if ('group' in c) return f.groupId !== null && c.group.includes(f.groupId);
  if ('plan' in c) return f.planId !== null && c.plan.includes(f.planId);
  if ('label' in c) return c.label.some((l) => f.labels.includes(l));
  if ('customField' in c) {
    const v = f.customFields[c.customField.key];
    return v !== undefined && c.customField.values.includes(v);
  }
  if ('country' in c) return f.country !== null && c.country.includes(f.country);
  return (c.state as readonly string[]).includes(f.state);
}

/** Whether a SIM meets a rule's conditions: every `all` entry and at least one `any` entry (when given). */
export function conditionsHold(conditions: RuleConditions | undefined, f: SimFacts): boolean {
  if (!conditions) return true;
  if (conditions.all && !conditions.all.every((c) => holds(c, f))) return false;
  if (conditions.any?.length && !conditions.any.some((c) => holds(c, f))) return false;
  return true;
}

/** Whether conditions need the SIM's group, labels or custom fields (facts not held by the usage engine). */
export const needsAttributes = (conditions: RuleConditions | undefined): boolean =>
  [...(conditions?.all ?? []), ...(conditions?.any ?? [])].some((c) => 'group' in c || 'label' in c || 'customField' in c);

/** Bytes at which `percent` of `size` is reached: ceil(size × percent / 100), exact for any safe size. */
export function percentBytes(size: number, percent: number): number {
  const q = Math.floor(size / 100);
  return q * percent + Math.ceil(((size - q * 100) * percent) / 100);
}

/** The stage thresholds of a usage trigger in bytes for an allowance of `sizeBytes` (percents need one). */
export function stageBytes(t: Extract<RuleTrigger, { type: 'usage' }>, sizeBytes: number | null): { stage: number; bytes: number }[] {
  if (t.megabytes) return t.megabytes.map((mb) => ({ stage: mb, bytes: Math.round(mb * MB) }));
  if (!t.percents || sizeBytes === null || sizeBytes <= 0) return [];
  return t.percents.map((p) => ({ stage: p, bytes: percentBytes(sizeBytes, p) }));
}

/** The stages a usage figure crossed going from `before` to `after` bytes (before < threshold <= after). */
export function stagesCrossed(thresholds: { stage: number; bytes: number }[], before: number, after: number): { stage: number; bytes: number }[] {
  if (after <= before) return [];
  return thresholds.filter((s) => before < s.bytes && s.bytes <= after);
}

/**
 * The period key a firing is counted in: once per subject, period and stage. `every_time` rules get the firing time,
 * so each firing is its own period (the cool-down then spaces them).
 */
export function periodKey(rule: Pick<RuleDefinition, 'repeat'>, natural: string, at: Date): string {
  return rule.repeat === 'every_time' ? `t${at.getTime()}` : natural;
}

/** What fired, per rule, subject, period and stage, and when each rule last fired per subject (for cool-downs). */
export class FiringMemory {
  private readonly fired = new Map<string, number>();
  private readonly last = new Map<string, number>();

  /** Whether a firing would be new (not in its period and stage yet, and out of the cool-down); records it when so. */
  admit(rule: Pick<Rule, 'id' | 'cooldownMinutes'>, subjectId: string, period: string, stage: string, atMs: number): boolean {
    const key = `${rule.id}|${subjectId}|${period}|${stage}`;
    if (this.fired.has(key)) return false;
    const last = this.last.get(`${rule.id}|${subjectId}`);
    if (rule.cooldownMinutes > 0 && last !== undefined && atMs - last < rule.cooldownMinutes * 60_000) return false;
    this.remember(rule.id, subjectId, period, stage, atMs);
    return true;
  }

  remember(ruleId: string, subjectId: string, period: string, stage: string, atMs: number): void {
    this.fired.set(`${ruleId}|${subjectId}|${period}|${stage}`, atMs);
    const k = `${ruleId}|${subjectId}`;
    if ((this.last.get(k) ?? -Infinity) < atMs) this.last.set(k, atMs);
  }

  /** Forgets firings older than `beforeMs`. */
  prune(beforeMs: number): void {
    for (const [k, ms] of this.fired) if (ms < beforeMs) this.fired.delete(k);
    for (const [k, ms] of this.last) if (ms < beforeMs) this.last.delete(k);
  }
}

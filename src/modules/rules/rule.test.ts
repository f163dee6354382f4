import { describe, expect, it } from 'vitest';
import { evaluateObservation, type ObservedSim, RuleSets } from './rule-set.ts';
import { conditionsHold, FiringMemory, MB, percentBytes, type Rule, RuleDefinitionSchema, type RuleDefinitionInput, ruleProblems, stageBytes, stagesCrossed, type SimFacts } from './rule.ts';

const rule = (id: string, accountId: string, d: Partial<RuleDefinitionInput> = {}): Rule => ({
  ...RuleDefinitionSchema.parse({ name: id, scope: { kind: 'account', id: accountId }, trigger: { type: 'usage', megabytes: [1] }, actions: [{ type: 'webhook' }], ...d }),
  id,
  accountId,
  templateId: null,
  createdBy: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const sim = (over: Partial<ObservedSim> = {}): ObservedSim => ({
  iccid: '89860010000000000017',
  accountId: 'acc_a',
  timezone: 'Asia/Shanghai',
  state: 'active',
  planId: null,
  usageDay: '2026-01-15',
  usageDayBytes: 0,
  usageCycle: '2026-01',
  usageCycleBytes: 0,
  ...over,
});

const facts = (over: Partial<SimFacts> = {}): SimFacts => ({ accountId: 'a', state: 'active', planId: null, groupId: null, labels: [], customFields: {}, country: null, ...over });

describe('stages', () => {
  it('computes percent thresholds exactly and lists the stages a delta crosses', () => {
    expect(percentBytes(MB, 70)).toBe(Math.ceil(MB * 0.7));
    expect(percentBytes(Number.MAX_SAFE_INTEGER, 100)).toBe(Number.MAX_SAFE_INTEGER);
    const t = { type: 'usage' as const, period: 'cycle' as const, of: 'sim' as const, percents: [70, 90, 100] };
    const s = stageBytes(t, 1000);
    expect(stagesCrossed(s, 0, 699)).toEqual([]);
    expect(stagesCrossed(s, 699, 700).map((x) => x.stage)).toEqual([70]);
    expect(stagesCrossed(s, 700, 1000).map((x) => x.stage)).toEqual([90, 100]);
    expect(stagesCrossed(s, 1000, 5000)).toEqual([]);
    expect(stageBytes({ ...t, percents: undefined, megabytes: [80, 100] }, null).map((x) => x.bytes)).toEqual([80 * MB, 100 * MB]);
  });
});

describe('conditions', () => {
  const c = { all: [{ label: ['fleet'] }], any: [{ group: ['g1'] }, { state: ['suspended' as const] }] };
  it('needs every all entry and one any entry', () => {
    expect(conditionsHold(c, facts({ labels: ['fleet'], groupId: 'g1' }))).toBe(true);
    expect(conditionsHold(c, facts({ labels: ['fleet'], state: 'suspended' }))).toBe(true);
    expect(conditionsHold(c, facts({ labels: ['fleet'] }))).toBe(false);
    expect(conditionsHold(c, facts({ groupId: 'g1' }))).toBe(false);
    expect(conditionsHold(undefined, facts())).toBe(true);
    expect(conditionsHold({ all: [{ customField: { key: 'tier', values: ['gold'] } }, { country: ['CN'] }] }, facts({ customFields: { tier: 'gold' }, country: 'CN' }))).toBe(true);
  });
});

describe('firing memory', () => {
  it('admits a firing once per period and stage, and not within the cool-down', () => {
    const m = new FiringMemory();
    const r = { id: 'r', cooldownMinutes: 10 };
    expect(m.admit(r, 's', '2026-01', '70', 0)).toBe(true);
    expect(m.admit(r, 's', '2026-01', '70', 60 * 60_000)).toBe(false);
    expect(m.admit(r, 's', '2026-01', '90', 5 * 60_000)).toBe(false);
    expect(m.admit(r, 's', '2026-01', '90', 11 * 60_000)).toBe(true);
    expect(m.admit(r, 'other', '2026-01', '90', 11 * 60_000)).toBe(true);
  });
});

describe('rule sets', () => {
  const paths = new Map([
    ['acc_op', '/acc_op/'],
    ['acc_a', '/acc_op/acc_a/'],
    ['acc_a1', '/acc_op/acc_a/acc_a1/'],
    ['acc_b', '/acc_op/acc_b/'],
  ]);
  it("applies a rule below its account only, never to a sibling's SIMs", () => {
    const sets = RuleSets.compile([rule('ra', 'acc_a'), rule('rop', 'acc_op'), rule('off', 'acc_a', { enabled: false })], paths);
    expect(sets.rulesFor('acc_a1', 'usage')?.map((r) => r.id).sort()).toEqual(['ra', 'rop']);
    expect(sets.rulesFor('acc_b', 'usage')?.map((r) => r.id)).toEqual(['rop']);
    expect(sets.hasRules('acc_b')).toBe(true);
    expect(RuleSets.compile([rule('ra', 'acc_a')], paths).hasRules('acc_b')).toBe(false);
  });

  it('evaluates a usage observation into candidates with the stage and period', () => {
    const sets = RuleSets.compile([rule('ra', 'acc_a', { trigger: { type: 'usage', period: 'day', megabytes: [1, 2] } })], paths);
    const at = new Date('2026-01-15T02:00:00Z');
    const none = () => undefined;
    const groups = () => ({ beforeBytes: 0, afterBytes: 0 });
    expect(evaluateObservation(sets, { sim: sim({ usageDayBytes: MB - 1 }), at, bytes: 100 }, none, groups)).toEqual([]);
    const c = evaluateObservation(sets, { sim: sim({ usageDayBytes: 2 * MB }), at, bytes: MB + 1 }, none, groups);
    expect(c.map((x) => [x.stage, x.period])).toEqual([
      ['1', '2026-01-15'],
      ['2', '2026-01-15'],
    ]);
  });

  it('names what is wrong with a definition', () => {
    const d = RuleDefinitionSchema.parse({ name: 'x', scope: { kind: 'account', id: 'a' }, trigger: { type: 'usage', of: 'pool', period: 'day', percents: [50], megabytes: [1] }, actions: [{ type: 'suspend' }] });
    expect(ruleProblems(d)).toEqual([
      'trigger.usage needs exactly one of percents or megabytes',
      'trigger.usage in percents is of the cycle allowance: period must be "cycle" (use megabytes per day)',
      'trigger.usage of a pool counts the cycle: period must be "cycle"',
      'actions suspend act on one SIM; a rule on the usage of a pool can only notify (notify_email, notify_sms, webhook)',
    ]);
  });
});

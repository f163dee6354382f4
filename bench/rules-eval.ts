/**
 * Cost of automation rules on the hot path, in process: what the usage engine does per committed packet for a SIM
 * whose account has the ten rules of BENCH_RULES=10 (observation built, rules evaluated, firings admitted), against
 * a SIM whose account has none. No database: the evaluation is pure.
 *
 *   npx tsx bench/rules-eval.ts            BENCH_SIMS (100000), BENCH_PACKETS (2000000)
 */
import { evaluateObservation, type Observation, type ObservedSim, RuleSets } from '../src/modules/rules/rule-set.ts';
import { FiringMemory, type Rule, RuleDefinitionSchema } from '../src/modules/rules/rule.ts';
import { BENCH_RULE_DEFINITIONS } from './support/bench-rules.ts';
import { intEnv } from './support/env.ts';

const SIMS = intEnv('BENCH_SIMS', 100_000);
const PACKETS = intEnv('BENCH_PACKETS', 2_000_000);

const rules: Rule[] = BENCH_RULE_DEFINITIONS.map((d, i) => ({
  ...RuleDefinitionSchema.parse({ ...d, scope: { kind: 'account', id: 'acc_rules' }, actions: [{ type: 'webhook' }] }),
  id: `rul_${i}`,
  accountId: 'acc_rules',
  templateId: null,
  createdBy: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
}));
const sets = RuleSets.compile(rules, new Map([['acc_rules', '/acc_rules/'], ['acc_none', '/acc_none/']]));
const attrs = { groupId: null, labels: [] as string[], customFields: {} };
const memory = new FiringMemory();

function run(accountId: string): { nsPerPacket: number; firings: number } {
  const sims: ObservedSim[] = Array.from({ length: SIMS }, (_, i) => ({
    iccid: `8986${String(i).padStart(16, '0')}`,
    accountId,
    timezone: 'Asia/Shanghai',
    state: 'active',
    planId: 'p',
    usageDay: '2026-12-01',
    usageDayBytes: 0,
    usageCycle: '2026-12',
    usageCycleBytes: 0,
  }));
  const at = new Date('2026-12-01T04:00:00Z');
  let firings = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < PACKETS; n++) {
    const sim = sims[n % SIMS]!;
    const bytes = 20_000;
    sim.usageDayBytes += bytes;
    sim.usageCycleBytes += bytes;
    const phase = Math.floor(n / SIMS) % 6;
    if (!sets.hasRules(sim.accountId)) continue;
    const o: Observation = {
      sim,
      at,
      bytes,
      allowance: { sizeBytes: 100 * 1024 * 1024, usedBeforeBytes: sim.usageCycleBytes - bytes, usedAfterBytes: sim.usageCycleBytes },
      session: { startedNow: phase === 0, stoppedNow: phase === 5, mccMnc: '46000', imei: '3520990012345678', previousMccMnc: '46000', previousImei: '3520990012345678', firstAttach: false },
    };
    for (const c of evaluateObservation(sets, o, () => attrs, () => ({ beforeBytes: 0, afterBytes: 0 }))) {
      if (memory.admit(c.rule, c.subject.id, c.period, c.stage, at.getTime())) firings++;
    }
  }
  return { nsPerPacket: Number(process.hrtime.bigint() - started) / PACKETS, firings };
}

run('acc_rules');
const none = run('acc_none');
const ten = run('acc_rules');
process.stdout.write(
  `${PACKETS.toLocaleString('en-US')} packets over ${SIMS.toLocaleString('en-US')} SIMs: account without rules ${none.nsPerPacket.toFixed(0)} ns per packet; ` +
    `account with ${rules.length} rules ${ten.nsPerPacket.toFixed(0)} ns per packet (${ten.firings} new firings in the measured pass)\n`,
);

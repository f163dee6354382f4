import type { RuleDefinitionInput } from '../../src/modules/rules/rule.ts';

/**
 * The ten automation rules of the benchmarks: the reminders and alerts of the seeds, without scope and actions. Six
 * are evaluated by the engine on every packet (usage, network, IMEI, session), the rest by the scheduler.
 */
export const BENCH_RULE_DEFINITIONS: readonly Omit<RuleDefinitionInput, 'scope' | 'actions'>[] = [
  { name: 'monthly usage 80 MB and 100 MB', trigger: { type: 'usage', period: 'cycle', megabytes: [80, 100] } },
  { name: 'daily traffic anomaly over 150 MB', trigger: { type: 'usage', period: 'day', megabytes: [150] } },
  { name: 'staged 70/90/100 % of the allowance', trigger: { type: 'usage', percents: [70, 90, 100] } },
  { name: 'pool at 70/90/100 %', trigger: { type: 'usage', of: 'pool', percents: [70, 90, 100] } },
  { name: 'network is not China Mobile', trigger: { type: 'network_not', mccMnc: ['46000', '46002', '46007'] } },
  { name: 'IMEI changed', trigger: { type: 'imei_change' } },
  { name: 'country changed', trigger: { type: 'network_change', what: 'country' } },
  { name: 'session stop of fleet SIMs', trigger: { type: 'session', event: 'stop' }, conditions: { all: [{ label: ['fleet'] }], any: [{ state: ['active'] }, { state: ['test'] }] } },
  { name: 'offline for more than 2 minutes', trigger: { type: 'offline', minutes: 2 } },
  { name: 'expiry in 30 and 15 days', trigger: { type: 'expiry', days: [30, 15] } },
];

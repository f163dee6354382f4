/**
 * Ready-made rules from the reminders and alert rules operators know (003: usage thresholds of 80 and 100 MB,
 * expiry in 30 and 15 days; 004: staged 70/90/100 %, device offline longer than 2 minutes, over 150 MB a day).
 */
import type { RuleAction, RuleDefinitionInput } from './rule.ts';

export interface RuleTemplate {
  id: string;
  name: string;
  description: string;
  /** The definition without scope and actions (the caller gives those; notify by email when no action is given). */
  definition: Omit<RuleDefinitionInput, 'scope' | 'actions' | 'name'>;
}

export const RULE_TEMPLATES: readonly RuleTemplate[] = [
  {
    id: 'usage-80-100-mb',
    name: 'Monthly usage reminder at 80 MB and 100 MB',
    description: '月流量警报通知: one notice when the cycle usage of a SIM reaches 80 MB and one at 100 MB',
    definition: { trigger: { type: 'usage', period: 'cycle', of: 'sim', megabytes: [80, 100] } },
  },
  {
    id: 'usage-staged-70-90-100',
    name: 'Staged usage alert at 70 %, 90 % and 100 % of the allowance',
    description: '階段用量: one notice per stage and cycle, of the SIM allowance (or the pool, with of = pool)',
    definition: { trigger: { type: 'usage', period: 'cycle', of: 'sim', percents: [70, 90, 100] } },
  },
  {
    id: 'expiry-30-15-days',
    name: 'Expiry reminder 30 and 15 days ahead',
    description: '卡到期通知: one notice 30 days and one 15 days before the SIM expires',
    definition: { trigger: { type: 'expiry', days: [30, 15] } },
  },
  {
    id: 'test-period-ending',
    name: 'Test period ending within 7 days',
    description: 'One notice when the test period of a SIM ends within 7 days',
    definition: { trigger: { type: 'test_period_ending', days: 7 } },
  },
  {
    id: 'offline-2-minutes',
    name: 'Device offline for more than 2 minutes',
    description: '設備斷線: the SIM has had no open session for more than 2 minutes; once per offline spell',
    definition: { trigger: { type: 'offline', minutes: 2 } },
  },
  {
    id: 'daily-traffic-anomaly-150-mb',
    name: 'Traffic anomaly: more than 150 MB in a day',
    description: '流量異常: 單筆每日超過150MB, once per SIM and day',
    definition: { trigger: { type: 'usage', period: 'day', of: 'sim', megabytes: [150] } },
  },
];

export const findTemplate = (id: string): RuleTemplate | undefined => RULE_TEMPLATES.find((t) => t.id === id);

/** The default action of a rule made from a template when none is given. */
export const templateActions = (actions: RuleAction[] | undefined): RuleAction[] => actions ?? [{ type: 'webhook' }];

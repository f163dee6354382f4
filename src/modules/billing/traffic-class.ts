/**
 * Split billing (分离计费): classification rules give a usage record a traffic class and the account that pays for
 * it. A rule applies to the SIMs of its account and of the accounts under it; it matches by APN (exact, or a prefix
 * ending in `*`) and/or by the zone the record was rated in; the first matching rule by priority (then id) wins.
 * A record no rule matches has no class and is paid by the SIM's account. Pure.
 */
import { invalid } from '../../shared/errors.ts';

export interface TrafficRule {
  id: string;
  /** The SIMs of this account and of the accounts under it. */
  accountId: string;
  /** Lower first. */
  priority: number;
  apn: string | null;
  zoneId: string | null;
  trafficClass: string;
  payerAccountId: string;
}

export interface TrafficClassification {
  trafficClass: string | null;
  /** Null: the SIM's own account pays. */
  payerAccountId: string | null;
}

const NONE: TrafficClassification = Object.freeze({ trafficClass: null, payerAccountId: null });
const CLASS = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const APN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,99}\*?$/;

/** What is wrong with a rule's own fields; empty when they are valid. */
export function trafficRuleProblems(r: Pick<TrafficRule, 'priority' | 'apn' | 'zoneId' | 'trafficClass'>): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(r.priority) || r.priority < 0 || r.priority > 1_000_000) problems.push(`priority must be a whole number from 0 to 1000000 (got ${r.priority})`);
  if (r.apn !== null && !APN.test(r.apn)) problems.push(`apn ${JSON.stringify(r.apn)} must be an APN such as iot.example, or a prefix ending in * such as media.*`);
  if (!CLASS.test(r.trafficClass)) problems.push(`trafficClass ${JSON.stringify(r.trafficClass)} must be 1-32 lower-case letters, digits, '_', '.' or '-', e.g. infotainment`);
  return problems;
}

export function checkTrafficRule(r: Pick<TrafficRule, 'priority' | 'apn' | 'zoneId' | 'trafficClass'>): void {
  const problems = trafficRuleProblems(r);
  if (problems.length) throw invalid('invalid_traffic_rule', problems.join('; '), { problems });
}

const apnMatches = (pattern: string, apn: string | null): boolean =>
  apn !== null && (pattern.endsWith('*') ? apn.toLowerCase().startsWith(pattern.slice(0, -1).toLowerCase()) : apn.toLowerCase() === pattern.toLowerCase());

/** A classifier over rules and the account tree (`pathOf`: materialised path of an account, `/a/b/`). */
export class TrafficClassifier {
  private readonly byAccount = new Map<string, readonly TrafficRule[]>();

  constructor(
    private readonly rules: readonly TrafficRule[],
    private readonly pathOf: (accountId: string) => string | undefined,
  ) {}

  /** The rules that apply to SIMs of an account, in the order they are tried (cached per account). */
  private rulesFor(accountId: string): readonly TrafficRule[] {
    let list = this.byAccount.get(accountId);
    if (list === undefined) {
      const path = this.pathOf(accountId);
      const above = new Set(path?.split('/').filter(Boolean) ?? [accountId]);
      list = this.rules.filter((r) => above.has(r.accountId)).sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
      this.byAccount.set(accountId, list);
    }
    return list;
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  classify(simAccountId: string, apn: string | null, zoneId: string | null): TrafficClassification {
    if (this.rules.length === 0) return NONE;
    for (const r of this.rulesFor(simAccountId)) {
      if (r.apn !== null && !apnMatches(r.apn, apn)) continue;
      if (r.zoneId !== null && r.zoneId !== zoneId) continue;
      return { trafficClass: r.trafficClass, payerAccountId: r.payerAccountId === simAccountId ? null : r.payerAccountId };
    }
    return NONE;
  }
}

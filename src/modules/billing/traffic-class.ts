/**
 * Split billing (分离计费): classification rules give a usage record a traffic class and the account that pays for
 * it. A rule applies to the SIMs of its account and of the accounts under it; it matches by APN (exact, or a prefix
 * ending in `*`), by the destination class the gateway reported (the same way) and/or by the zone the record was
 * rated in; the first matching rule by priority (then id) wins.
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
  /** Destination class reported by the gateway (CDR `destination`, a RADIUS attribute), exact or a prefix ending in `*`. */
  destinationClass: string | null;
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
const DESTINATION_CLASS = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}\*?$/;

/** What is wrong with a rule's own fields; empty when they are valid. */
export function trafficRuleProblems(r: Pick<TrafficRule, 'priority' | 'apn' | 'zoneId' | 'trafficClass'> & { destinationClass?: string | null }): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(r.priority) || r.priority < 0 || r.priority > 1_000_000) problems.push(`priority must be a whole number from 0 to 1000000 (got ${r.priority})`);
  if (r.apn !== null && !APN.test(r.apn)) problems.push(`apn ${JSON.stringify(r.apn)} must be an APN such as iot.example, or a prefix ending in * such as media.*`);
  if (r.destinationClass !== undefined && r.destinationClass !== null && !DESTINATION_CLASS.test(r.destinationClass)) {
    problems.push(`destinationClass ${JSON.stringify(r.destinationClass)} must be 1-64 letters, digits, '_', '.', ':', '/' or '-' as the gateway reports it (video, rg-2000), or a prefix ending in * such as video.*`);
  }
  if (!CLASS.test(r.trafficClass)) problems.push(`trafficClass ${JSON.stringify(r.trafficClass)} must be 1-32 lower-case letters, digits, '_', '.' or '-', e.g. infotainment`);
  return problems;
}

export function checkTrafficRule(r: Pick<TrafficRule, 'priority' | 'apn' | 'zoneId' | 'trafficClass'> & { destinationClass?: string | null }): void {
  const problems = trafficRuleProblems(r);
  if (problems.length) throw invalid('invalid_traffic_rule', problems.join('; '), { problems });
}

/** An APN or destination class against a rule's pattern: exact or a prefix ending in `*`, ignoring case. */
const matches = (pattern: string, value: string | null): boolean =>
  value !== null && (pattern.endsWith('*') ? value.toLowerCase().startsWith(pattern.slice(0, -1).toLowerCase()) : value.toLowerCase() === pattern.toLowerCase());

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

  /** The class and payer of a record (`destinationClass`: what the gateway reported, null when nothing). */
  classify(simAccountId: string, apn: string | null, zoneId: string | null, destinationClass: string | null = null): TrafficClassification {
    if (this.rules.length === 0) return NONE;
    for (const r of this.rulesFor(simAccountId)) {
      if (r.apn !== null && !matches(r.apn, apn)) continue;
      if (r.zoneId !== null && r.zoneId !== zoneId) continue;
      if (r.destinationClass !== null && !matches(r.destinationClass, destinationClass)) continue;
      return { trafficClass: r.trafficClass, payerAccountId: r.payerAccountId === simAccountId ? null : r.payerAccountId };
    }
    return NONE;
  }
}

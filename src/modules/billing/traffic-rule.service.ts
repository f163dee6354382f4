/** Split-billing rules (分离计费): which traffic of which SIMs another account pays for. */
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import { findZone } from '../rating/catalog.repository.ts';
import { checkTrafficRule } from './traffic-class.ts';
import * as repo from './traffic-rule.repository.ts';
import type { TrafficRuleRecord } from './traffic-rule.repository.ts';

export type { TrafficRuleRecord } from './traffic-rule.repository.ts';

export interface TrafficRuleInput {
  /** Default: the caller's account. */
  accountId?: string;
  priority?: number;
  apn?: string | null;
  zoneId?: string | null;
  destinationClass?: string | null;
  trafficClass: string;
  payerAccountId: string;
}

export class TrafficRuleService {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
  ) {}

  /** Calls `listener` after a rule is created or deleted (the usage engine reloads its classifier). */
  onRulesChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * A rule for the SIMs of an account and the accounts under it (operator and reseller admins): matching traffic gets
   * the class and is billed to the payer, an account the caller can see.
   */
  async createRule(principal: Principal, input: TrafficRuleInput): Promise<TrafficRuleRecord> {
    requirePermission(principal, 'bills:write');
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    const payer = await this.accounts.getAccount(principal, input.payerAccountId);
    const rule: TrafficRuleRecord = {
      id: newId('trr'),
      accountId: account.id,
      priority: input.priority ?? 100,
      apn: input.apn ?? null,
      zoneId: input.zoneId ?? null,
      destinationClass: input.destinationClass ?? null,
      trafficClass: input.trafficClass,
      payerAccountId: payer.id,
      createdBy: principal.actor,
      createdAt: this.clock.now(),
    };
    checkTrafficRule(rule);
    if (rule.zoneId !== null && !(await findZone(this.db, rule.zoneId))) throw invalid('invalid_traffic_rule', `zone ${rule.zoneId} does not exist`);
    await repo.insertTrafficRule(this.db, rule);
    this.notify();
    return rule;
  }

  listRules(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<TrafficRuleRecord[]> {
    return repo.listTrafficRules(this.db, principal.accountPath, filter);
  }

  async getRule(principal: Principal, id: string): Promise<TrafficRuleRecord> {
    const rule = await repo.findTrafficRule(this.db, id, principal.accountPath);
    if (!rule) throw notFound('traffic_rule', id);
    return rule;
  }

  /** Usage recorded before keeps its class and payer; usage from now on is classified without the rule. */
  async deleteRule(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'bills:write');
    await this.getRule(principal, id);
    await repo.deleteTrafficRule(this.db, id);
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}

/** Automation rules: create, change, enable and disable, templates, the firings log and backtests, within scope. */
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { localMonth } from '../../shared/time-zone.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import type { GroupService } from '../groups/group.service.ts';
import { loadRatingCatalog } from '../rating/catalog.repository.ts';
import type { CatalogService } from '../rating/catalog.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import { backtest, type BacktestResult, type History } from './backtest.ts';
import type { RuleActions } from './rule-actions.ts';
import { findTemplate, RULE_TEMPLATES, type RuleTemplate, templateActions } from './rule-templates.ts';
import * as repo from './rule.repository.ts';
import type { FiringFilter, RuleFiring } from './rule.repository.ts';
import { type Rule, type RuleAction, type RuleDefinition, RuleDefinitionSchema, type RuleDefinitionInput, ruleProblems } from './rule.ts';

/** Most SIMs and usage records a backtest replays. */
const BACKTEST_SIMS = 100_000;
const BACKTEST_ROWS = 2_000_000;
export const BACKTEST_MAX_DAYS = 92;

export class RuleService {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly groups: GroupService,
    private readonly sims: SimService,
    private readonly catalog: CatalogService,
    private readonly actions: RuleActions,
  ) {}

  /** Called after each committed change to a rule (the engine compiles the rules again). */
  onRulesChanged(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  async createRule(principal: Principal, input: RuleDefinition & { accountId?: string }, templateId: string | null = null): Promise<Rule> {
    requirePermission(principal, 'sims:write');
    const { accountId, ...definition } = input;
    const owner = await this.accounts.getAccount(principal, accountId ?? principal.accountId);
    await this.check(owner.id, definition);
    const rule = await repo.insertRule(this.db, { ...definition, id: newId('rul'), accountId: owner.id, templateId, createdBy: principal.actor }, this.clock.now());
    this.changed();
    return rule;
  }

  async getRule(principal: Principal, id: string): Promise<Rule> {
    const rule = await repo.findRule(this.db, id, principal.accountPath);
    if (!rule) throw notFound('rule', id);
    return rule;
  }

  listRules(principal: Principal, page: { after?: string; limit: number; enabled?: boolean }): Promise<Rule[]> {
    return repo.listRules(this.db, principal.accountPath, page);
  }

  /** Replaces a rule's definition (name, scope, trigger, conditions, actions, repeat, cool-down, enabled). */
  async replaceRule(principal: Principal, id: string, definition: RuleDefinition): Promise<Rule> {
    requirePermission(principal, 'sims:write');
    const rule = await this.getRule(principal, id);
    await this.check(rule.accountId, definition);
    const updated = await repo.updateRule(this.db, id, definition, this.clock.now());
    if (!updated) throw notFound('rule', id);
    this.changed();
    return updated;
  }

  async setEnabled(principal: Principal, id: string, enabled: boolean): Promise<Rule> {
    requirePermission(principal, 'sims:write');
    const rule = await this.getRule(principal, id);
    const updated = await repo.updateRule(this.db, id, { ...rule, enabled }, this.clock.now());
    this.changed();
    return updated!;
  }

  /** Deletes a rule and its firings log. */
  async deleteRule(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'sims:write');
    await this.getRule(principal, id);
    await repo.deleteRule(this.db, id);
    this.changed();
  }

  listTemplates(): readonly RuleTemplate[] {
    return RULE_TEMPLATES;
  }

  /** A rule from a template: its trigger, with the caller's scope and actions (default: webhook) and overrides. */
  async createFromTemplate(
    principal: Principal,
    templateId: string,
    input: { accountId?: string; name?: string; scope: RuleDefinition['scope']; actions?: RuleAction[]; conditions?: RuleDefinition['conditions']; enabled?: boolean; cooldownMinutes?: number },
  ): Promise<Rule> {
    const template = findTemplate(templateId);
    if (!template) throw notFound('rule_template', templateId);
    const raw: RuleDefinitionInput = {
      ...template.definition,
      name: input.name ?? template.name,
      scope: input.scope,
      actions: templateActions(input.actions),
      ...(input.conditions ? { conditions: input.conditions } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.cooldownMinutes !== undefined ? { cooldownMinutes: input.cooldownMinutes } : {}),
    };
    const parsed = RuleDefinitionSchema.safeParse(raw);
    if (!parsed.success) throw invalid('invalid_rule', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return this.createRule(principal, { ...parsed.data, ...(input.accountId ? { accountId: input.accountId } : {}) }, template.id);
  }

  listFirings(principal: Principal, filter: FiringFilter, page: { before?: number; limit: number }): Promise<RuleFiring[]> {
    return repo.listFirings(this.db, principal.accountPath, filter, page);
  }

  /**
   * What a rule (saved, or a definition not saved yet) would have done over the last `days` days of recorded usage,
   * sessions and state changes. Nothing is recorded and no action runs.
   */
  async backtest(principal: Principal, rule: { id: string } | (RuleDefinition & { accountId?: string }), days: number, limit: number): Promise<BacktestResult & { ruleId: string | null; sims: number }> {
    if (!Number.isInteger(days) || days < 1 || days > BACKTEST_MAX_DAYS) throw invalid('invalid_days', `days must be a whole number from 1 to ${BACKTEST_MAX_DAYS} (got ${days})`);
    let subject: Rule;
    if ('id' in rule) subject = await this.getRule(principal, rule.id);
    else {
      const { accountId, ...definition } = rule;
      const owner = await this.accounts.getAccount(principal, accountId ?? principal.accountId);
      await this.check(owner.id, definition);
      const now = this.clock.now();
      subject = { ...definition, id: 'unsaved', accountId: owner.id, templateId: null, createdBy: principal.actor, createdAt: now, updatedAt: now };
    }
    const to = this.clock.now();
    const from = new Date(to.getTime() - days * 86_400_000);
    const reachId = subject.scope.kind === 'account' ? subject.scope.id : subject.accountId;
    const reach = await this.accounts.getAccount(principal, reachId);
    const sims = await repo.simsInReach(this.db, reach.path, subject.scope, BACKTEST_SIMS);
    const iccids = sims.map((s) => s.iccid);
    // NOTE: usage from the first day of the cycle the window starts in, so that cycle figures cross where they did.
    const zones = [...new Set(sims.map((s) => s.timezone))];
    const cycleStarts = zones.map((tz) => new Date(`${localMonth(from, tz)}-01T00:00:00Z`).getTime() - 14 * 3_600_000);
    const usageFrom = new Date(Math.min(from.getTime(), ...cycleStarts));
    const catalog = await loadRatingCatalog(this.db);
    const planAllowance = new Map<string, { includedBytes: number; pooled: boolean }>();
    for (const p of [...catalog.plans].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime())) {
      if (p.effectiveFrom <= to) planAllowance.set(p.id, { includedBytes: p.includedBytes, pooled: p.sharing === 'pooled' });
    }
    const [usage, sessions, stateChanges, seen] = await Promise.all([
      repo.usageOf(this.db, iccids, usageFrom, to, BACKTEST_ROWS),
      repo.sessionsOf(this.db, iccids, from, to, BACKTEST_ROWS),
      repo.stateChangesOf(this.db, iccids, from, to, BACKTEST_ROWS),
      repo.seenBefore(this.db, iccids, from),
    ]);
    const history: History = { sims: new Map(sims.map((s) => [s.iccid, s])), planAllowance, usage, sessions, stateChanges, seenBefore: seen };
    const result = backtest(subject, history, from, to, limit);
    const notes = [...result.notes];
    if (sims.length === BACKTEST_SIMS) notes.push(`only the first ${BACKTEST_SIMS} SIMs of the scope were replayed`);
    if (usage.length === BACKTEST_ROWS) notes.push(`only the first ${BACKTEST_ROWS} usage records were replayed`);
    return { ...result, notes, ruleId: 'id' in rule ? rule.id : null, sims: sims.length };
  }

  /** Validates a definition for rules of `ownerId`: shape rules, and every reference visible to that account. */
  private async check(ownerId: string, d: RuleDefinition): Promise<void> {
    const problems = ruleProblems(d);
    if (problems.length) throw invalid('invalid_rule', problems.join('; '), { problems });
    const owner = await this.actions.principalOf({ accountId: ownerId, id: 'check' });
    const s = d.scope;
    if (s.kind === 'account') await this.accounts.getAccount(owner, s.id);
    if (s.kind === 'group') await this.groups.getGroup(owner, s.id);
    if (s.kind === 'plan') await this.catalog.getPlanOwner(owner, s.id);
    if (s.kind === 'sim') await this.sims.getSimRow(owner, s.iccid);
    for (const c of [...(d.conditions?.all ?? []), ...(d.conditions?.any ?? [])]) {
      if ('group' in c) for (const g of c.group) await this.groups.getGroup(owner, g);
      if ('plan' in c) for (const p of c.plan) await this.catalog.getPlanOwner(owner, p);
    }
    for (const a of d.actions) if (a.type === 'change_plan') await this.catalog.getPlanOwner(owner, a.planId);
  }
}

import type { Db, Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { isRootPath, type Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { LifecycleService } from '../sims/lifecycle.service.ts';
import { originOf, type SimService } from '../sims/sim.service.ts';
import { checkBlacklistImei, checkCommPlan, type CommPlan, compilePolicy, type CompiledPolicy, type CommPlanInput, DEFAULT_COMM_PLAN, highRiskKindOf, type ImeiLock, type RegionRule } from './policy.ts';
import * as repo from './policy.repository.ts';
import type { ListedEntry, Violation } from './policy.repository.ts';
import { recordSimChange } from './violations.ts';

/** What changed, for the engine's copy of the policies. */
export type PolicyChange = { kind: 'plans' } | { kind: 'groups' } | { kind: 'sims'; iccids: string[] } | { kind: 'lists' };

/** A SIM's policies as they apply now: the plan in force and where it comes from, the lock and the bindings. */
export interface SimPolicy {
  iccid: string;
  /** `sim`: assigned to the SIM; `group`: its group's; `default`: neither (data only, nothing restricted). */
  source: 'sim' | 'group' | 'default';
  commPlan: CommPlan | null;
  /** The IMEI lock set on the SIM itself (null: the plan's). */
  ownImeiLock: ImeiLock | null;
  imeiLock: ImeiLock;
  boundImei: string | null;
  devices: { imei: string; firstSeenAt: Date }[];
  boundCountry: string | null;
}

/** A partial change of a plan's settings (nested settings may be partial too). */
export interface CommPlanPatch {
  name?: string | undefined;
  services?: { data?: boolean | undefined; voice?: boolean | undefined; sms?: boolean | undefined } | undefined;
  apns?: string[] | undefined;
  destinations?: string[] | undefined;
  smsWhitelist?: string[] | undefined;
  imeiLock?: { mode?: ImeiLock['mode'] | undefined; maxDevices?: number | undefined } | undefined;
  region?: { mode?: RegionRule['mode'] | undefined; countries?: string[] | undefined; zones?: string[] | undefined; operators?: string[] | undefined } | undefined;
  dailyDataLimitBytes?: number | null | undefined;
  abnormalDailyBytes?: number | undefined;
}

/** A plan of account `ownerId` fits a SIM or group of the account at `path` when the owner is that account or above it. */
const planFits = (ownerId: string, path: string): boolean => path.includes(`/${ownerId}/`);

/**
 * Communication plans and the security policies around them: plans and their assignment to SIMs and groups, the
 * IMEI lock and its reset, the operator's IMEI blacklist and high-risk areas, and the violations recorded.
 */
export class PolicyService {
  private readonly listeners: ((c: PolicyChange) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly sims: SimService,
    private readonly groups: GroupService,
    private readonly lifecycle: LifecycleService,
  ) {}

  /** Called after each committed change the network side must apply. */
  onChanged(listener: (c: PolicyChange) => void): void {
    this.listeners.push(listener);
  }

  private changed(c: PolicyChange): void {
    for (const l of this.listeners) l(c);
  }

  private async zoneIds(): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('zones').select('id').execute()).map((z) => z.id));
  }

  async getCommPlan(principal: Principal, id: string): Promise<CommPlan> {
    const plan = await repo.findCommPlan(this.db, id, principal.accountPath);
    if (!plan) throw notFound('comm_plan', id);
    return plan;
  }

  listCommPlans(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<CommPlan[]> {
    return repo.listCommPlans(this.db, principal.accountPath, filter);
  }

  async createCommPlan(principal: Principal, input: CommPlanPatch & { name: string; accountId?: string | undefined }): Promise<CommPlan> {
    requirePermission(principal, 'plans:write');
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    const plan = mergePlan(DEFAULT_COMM_PLAN, input);
    checkCommPlan(plan, await this.zoneIds());
    try {
      const created = await repo.insertCommPlan(this.db, { ...plan, id: newId('cp'), accountId: account.id }, this.clock.now());
      this.changed({ kind: 'plans' });
      return created;
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('comm_plan_exists', `account ${account.id} already has a communication plan named ${plan.name}`);
      throw e;
    }
  }

  /** Changes some settings of a plan; the rest stay. Every SIM under it follows at once. */
  async updateCommPlan(principal: Principal, id: string, patch: CommPlanPatch): Promise<CommPlan> {
    requirePermission(principal, 'plans:write');
    const current = await this.getCommPlan(principal, id);
    const plan = mergePlan(current, patch);
    checkCommPlan(plan, await this.zoneIds());
    try {
      const updated = await repo.updateCommPlan(this.db, id, plan, this.clock.now());
      this.changed({ kind: 'plans' });
      return updated;
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('comm_plan_exists', `account ${current.accountId} already has a communication plan named ${plan.name}`);
      throw e;
    }
  }

  async deleteCommPlan(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'plans:write');
    await this.getCommPlan(principal, id);
    const use = await repo.commPlanUse(this.db, id);
    if (use.sims + use.groups > 0) {
      throw conflict('comm_plan_in_use', `communication plan ${id} is assigned to ${use.sims} SIM(s) and ${use.groups} group(s); assign them another plan (or none) first`, use);
    }
    await repo.deleteCommPlan(this.db, id);
    this.changed({ kind: 'plans' });
  }

  /** A plan the principal can see that may serve the account at `path`; throws otherwise. */
  private async usablePlan(principal: Principal, planId: string, accountId: string, what: string): Promise<CommPlan> {
    const plan = await this.getCommPlan(principal, planId);
    const account = await this.accounts.getAccount(principal, accountId);
    if (!planFits(plan.accountId, account.path)) {
      throw invalid('comm_plan_not_available', `communication plan ${planId} belongs to account ${plan.accountId} and is not available to account ${accountId} of ${what}; use a plan of that account or of an account above it`);
    }
    return plan;
  }

  /** Assigns a plan to one SIM (null: the SIM follows its group's plan, or the default). */
  async assignToSim(principal: Principal, iccid: string, planId: string | null): Promise<SimPolicy> {
    requirePermission(principal, 'sims:write');
    const row = await this.sims.getSimRow(principal, iccid);
    if (planId !== null) await this.usablePlan(principal, planId, row.account_id, `SIM ${iccid}`);
    const current = (await repo.loadSimPolicyRows(this.db, [iccid]))[0]!;
    if (current.commPlanId !== planId) {
      const now = this.clock.now();
      await this.db.transaction().execute(async (trx) => {
        await repo.setSimCommPlan(trx, iccid, planId, now);
        await recordSimChange(trx, this.change(principal, row.account_id, iccid, 'comm_plan', current.commPlanId, planId, null), now);
      });
      this.changed({ kind: 'sims', iccids: [iccid] });
    }
    return this.getSimPolicy(principal, iccid);
  }

  /** Assigns a plan to a group: its SIMs without a plan of their own follow it. */
  async assignToGroup(principal: Principal, groupId: string, planId: string | null): Promise<{ groupId: string; commPlanId: string | null }> {
    requirePermission(principal, 'groups:write');
    const group = await this.groups.getGroup(principal, groupId);
    if (planId !== null) await this.usablePlan(principal, planId, group.accountId, `group ${groupId}`);
    await repo.setGroupCommPlan(this.db, groupId, planId);
    this.changed({ kind: 'groups' });
    return { groupId, commPlanId: planId };
  }

  async groupCommPlan(principal: Principal, groupId: string): Promise<{ groupId: string; commPlanId: string | null }> {
    await this.groups.getGroup(principal, groupId);
    const row = await this.db.selectFrom('groups').select('comm_plan_id').where('id', '=', groupId).executeTakeFirstOrThrow();
    return { groupId, commPlanId: row.comm_plan_id };
  }

  /** Sets the IMEI lock on one SIM (null: the plan's lock applies). */
  async setImeiLock(principal: Principal, iccid: string, lock: ImeiLock | null): Promise<SimPolicy> {
    requirePermission(principal, 'sims:write');
    const row = await this.sims.getSimRow(principal, iccid);
    if (lock && (!Number.isInteger(lock.maxDevices) || lock.maxDevices < 1 || lock.maxDevices > 1000)) {
      throw invalid('invalid_imei_lock', `maxDevices must be a whole number from 1 to 1000, not ${lock.maxDevices}`);
    }
    const current = (await repo.loadSimPolicyRows(this.db, [iccid]))[0]!;
    const shown = (l: ImeiLock | null) => (l ? (l.mode === 'tac' ? `tac:${l.maxDevices}` : l.mode) : null);
    if (shown(current.imeiLock) !== shown(lock)) {
      const now = this.clock.now();
      await this.db.transaction().execute(async (trx) => {
        await repo.setSimImeiLock(trx, iccid, lock, now);
        await recordSimChange(trx, this.change(principal, row.account_id, iccid, 'imei_lock', shown(current.imeiLock), shown(lock), null), now);
      });
      this.changed({ kind: 'sims', iccids: [iccid] });
    }
    return this.getSimPolicy(principal, iccid);
  }

  /**
   * Rebinds a SIM (机卡重绑): the bound IMEI and the devices seen are forgotten, and the next device seen becomes the
   * bound one. A SIM suspended for an IMEI mismatch becomes active again.
   */
  async resetImei(principal: Principal, iccid: string, reason?: string): Promise<SimPolicy> {
    requirePermission(principal, 'sims:write');
    const row = await this.sims.getSimRow(principal, iccid);
    const now = this.clock.now();
    const why = reason ?? 'IMEI reset: the next device seen is bound';
    await this.db.transaction().execute(async (trx) => {
      await repo.resetImei(trx, iccid, now);
      await recordSimChange(trx, this.change(principal, row.account_id, iccid, 'imei', row.imei, null, why), now);
    });
    this.changed({ kind: 'sims', iccids: [iccid] });
    if (row.state === 'suspended' && row.suspend_reason === 'imei_mismatch') {
      await this.lifecycle.transition([{ ...row, imei: null }], { state: 'active', reason: why }, originOf(principal));
    }
    return this.getSimPolicy(principal, iccid);
  }

  /** The communication plan in force for a SIM (its own, its group's, or the default), compiled; unscoped, for SMS checks. */
  async policyInForce(iccid: string, db: Executor = this.db): Promise<CompiledPolicy> {
    const [s] = await repo.loadSimPolicyRows(db, [iccid]);
    const groupPlanId = s?.groupId ? ((await db.selectFrom('groups').select('comm_plan_id').where('id', '=', s.groupId).executeTakeFirst())?.comm_plan_id ?? null) : null;
    const planId = s?.commPlanId ?? groupPlanId;
    const plan = planId ? await repo.findCommPlan(db, planId, '/') : undefined;
    return compilePolicy(plan, []);
  }

  async getSimPolicy(principal: Principal, iccid: string): Promise<SimPolicy> {
    await this.sims.getSimRow(principal, iccid);
    const s = (await repo.loadSimPolicyRows(this.db, [iccid]))[0]!;
    const groupPlanId = s.groupId
      ? ((await this.db.selectFrom('groups').select('comm_plan_id').where('id', '=', s.groupId).executeTakeFirst())?.comm_plan_id ?? null)
      : null;
    const planId = s.commPlanId ?? groupPlanId;
    // NOTE: the plan is read without scope: a plan of an account above the SIM's applies to it even if not visible.
    const plan = planId ? (await repo.loadCommPlans(this.db)).find((p) => p.id === planId) ?? null : null;
    return {
      iccid,
      source: s.commPlanId ? 'sim' : groupPlanId ? 'group' : 'default',
      commPlan: plan,
      ownImeiLock: s.imeiLock,
      imeiLock: s.imeiLock ?? plan?.imeiLock ?? DEFAULT_COMM_PLAN.imeiLock,
      boundImei: s.imei,
      devices: await repo.devicesOf(this.db, iccid),
      boundCountry: s.boundCountry,
    };
  }

  // --- operator lists ---

  private requireOperator(principal: Principal, write: boolean): void {
    if (write) requirePermission(principal, 'system:write');
    if (!isRootPath(principal.accountPath)) throw forbidden('only the operator account manages the IMEI blacklist and high-risk areas');
  }

  async addToBlacklist(principal: Principal, imei: string, reason: string | null): Promise<void> {
    this.requireOperator(principal, true);
    checkBlacklistImei(imei);
    await repo.addBlacklisted(this.db, { imei, reason, createdBy: principal.actor }, this.clock.now());
    this.changed({ kind: 'lists' });
  }

  async removeFromBlacklist(principal: Principal, imei: string): Promise<void> {
    this.requireOperator(principal, true);
    if (!(await repo.removeBlacklisted(this.db, imei))) throw notFound('blacklisted_imei', imei);
    this.changed({ kind: 'lists' });
  }

  listBlacklist(principal: Principal, page: { after?: string; limit: number }): Promise<ListedEntry[]> {
    this.requireOperator(principal, false);
    return repo.listBlacklist(this.db, page);
  }

  async addHighRiskArea(principal: Principal, code: string, reason: string | null): Promise<void> {
    this.requireOperator(principal, true);
    const kind = highRiskKindOf(code);
    if (!kind) throw invalid('invalid_area', `area ${JSON.stringify(code)} must be an ISO 3166-1 alpha-2 country code (such as KP) or a network as MCC+MNC (5 or 6 digits such as 41401)`);
    await repo.addHighRiskArea(this.db, { code, kind, reason, createdBy: principal.actor }, this.clock.now());
    this.changed({ kind: 'lists' });
  }

  async removeHighRiskArea(principal: Principal, code: string): Promise<void> {
    this.requireOperator(principal, true);
    if (!(await repo.removeHighRiskArea(this.db, code))) throw notFound('high_risk_area', code);
    this.changed({ kind: 'lists' });
  }

  listHighRiskAreas(principal: Principal): Promise<ListedEntry[]> {
    this.requireOperator(principal, false);
    return repo.listHighRiskAreas(this.db);
  }

  listViolations(principal: Principal, filter: { iccid?: string; kind?: string; beforeId?: number; limit: number }): Promise<Violation[]> {
    return repo.listViolations(this.db, principal.accountPath, filter);
  }

  private change(principal: Principal, accountId: string, iccid: string, field: string, oldValue: string | null, newValue: string | null, reason: string | null) {
    return { accountId, iccid, field, oldValue, newValue, source: principal.source, actor: principal.actor, reason };
  }
}

/** A plan's settings with a partial change applied (nested settings replaced as a whole). */
function mergePlan(base: CommPlanInput, patch: CommPlanPatch): CommPlanInput {
  const sv = patch.services ?? {};
  const lock = patch.imeiLock ?? {};
  const region = patch.region ?? {};
  return {
    name: patch.name ?? base.name,
    services: { data: sv.data ?? base.services.data, voice: sv.voice ?? base.services.voice, sms: sv.sms ?? base.services.sms },
    apns: patch.apns ?? base.apns,
    destinations: patch.destinations ?? base.destinations,
    smsWhitelist: patch.smsWhitelist ?? base.smsWhitelist,
    imeiLock: { mode: lock.mode ?? base.imeiLock.mode, maxDevices: lock.maxDevices ?? base.imeiLock.maxDevices },
    region: {
      mode: region.mode ?? base.region.mode,
      countries: region.countries ?? base.region.countries,
      zones: region.zones ?? base.region.zones,
      operators: region.operators ?? base.region.operators,
    },
    dailyDataLimitBytes: patch.dailyDataLimitBytes !== undefined ? patch.dailyDataLimitBytes : base.dailyDataLimitBytes,
    abnormalDailyBytes: patch.abnormalDailyBytes ?? base.abnormalDailyBytes,
  };
}

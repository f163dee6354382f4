import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, conflict, invalid, notFound } from '../../shared/errors.ts';
import { isRootPath, type Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import * as changes from '../changes/change-record.repository.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { ChangeRecord } from '../changes/change-record.ts';
import type { ChangeRecordFilter } from '../changes/change-record.repository.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { ChangeOrigin, LifecycleService, TransitionInput, TransitionResult } from './lifecycle.service.ts';
import { applyUpdate, checkImei, LABEL_PATTERN, type ResolvedUpdate, type Sim, type SimSort, type UpdateOutcome } from './sim.ts';
import * as repo from './sim.repository.ts';
import type { Page, Scope, SimFilter, SimRow } from './sim.repository.ts';

/** A principal's view of the SIM table. */
export function scopeOf(principal: Principal): Scope {
  return { path: principal.accountPath, isRoot: isRootPath(principal.accountPath) };
}

export const originOf = (principal: Principal, jobId?: string): ChangeOrigin => ({
  source: principal.source,
  actor: principal.actor,
  jobId: jobId ?? null,
});

export interface SimUpdate {
  groupId?: string | null;
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  customFields?: Record<string, string | null>;
  deviceName?: string | null;
  imei?: string | null;
  accountId?: string;
  /** Rate plan id, or null to take the SIM off its plan. */
  planId?: string | null;
}

/** What SIMs need of the rating catalogue (implemented by CatalogService). */
export interface PlanDirectory {
  /** The plan and its owner account if the principal can see it; throws `plan_not_found` otherwise. */
  getPlanOwner(principal: Principal, planId: string): Promise<{ id: string; accountId: string }>;
  /** The owner account of each existing plan id, without scope. */
  planOwners(planIds: string[]): Promise<Map<string, string>>;
}

/** Plans a SIM of the account at `path` may be on: those of the account and of the accounts above it. */
const planFits = (ownerId: string, path: string): boolean => path.includes(`/${ownerId}/`);

export interface Cursor {
  /** Sort value of the last row; null only for a SIM never seen, sorted by lastSeenAt. */
  value: string | null;
  iccid: string;
}

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Cursor;
    if ((typeof c.value === 'string' || c.value === null) && typeof c.iccid === 'string') return c;
  } catch {
    // fall through
  }
  throw invalid('invalid_cursor', 'cursor is not one this API returned; start again without it');
}

export function checkLabels(labels: string[]): void {
  const bad = labels.find((l) => !LABEL_PATTERN.test(l));
  if (bad !== undefined) throw invalid('invalid_label', `label "${bad}" must be 1-64 letters, digits, _ . : or -`);
}

export class SimService {
  private readonly changeListeners: ((iccids: string[]) => void)[] = [];
  private readonly updateListeners: ((iccids: string[]) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly accounts: AccountService,
    private readonly groups: GroupService,
    private readonly lifecycle: LifecycleService,
    private readonly plans: PlanDirectory,
  ) {}

  /** Called after SIMs change owner or are deleted (the network side refreshes its copy of them). */
  onSimsChanged(listener: (iccids: string[]) => void): void {
    this.changeListeners.push(listener);
  }

  /** Called after any attribute update of SIMs is committed (group, labels, custom fields, IMEI, owner, plan). */
  onSimsUpdated(listener: (iccids: string[]) => void): void {
    this.updateListeners.push(listener);
  }

  private notify(iccids: string[]): void {
    if (iccids.length) for (const listener of this.changeListeners) listener(iccids);
  }

  async getSimRow(principal: Principal, iccid: string): Promise<SimRow> {
    const row = await repo.findSimRow(this.db, iccid, scopeOf(principal));
    if (!row) throw notFound('sim', iccid);
    return row;
  }

  async getSim(principal: Principal, iccid: string): Promise<Sim> {
    const [sim] = await repo.withProfiles(this.db, [await this.getSimRow(principal, iccid)], this.clock.now());
    return sim!;
  }

  async listSims(principal: Principal, filter: SimFilter, page: Page): Promise<{ items: Sim[]; nextCursor: string | null }> {
    if (page.after) checkCursorValue(page.sort, page.after.value);
    const now = this.clock.now();
    const rows = await repo.listSimRows(this.db, scopeOf(principal), filter, { ...page, limit: page.limit + 1, now });
    const more = rows.length > page.limit;
    const items = await repo.withProfiles(this.db, rows.slice(0, page.limit), now);
    const last = items.at(-1);
    const nextCursor = more && last ? encodeCursor({ iccid: last.iccid, value: sortValue(last, page.sort) }) : null;
    return { items, nextCursor };
  }

  countSims(principal: Principal, filter: SimFilter): Promise<number> {
    return repo.countSims(this.db, scopeOf(principal), filter);
  }

  /** Checks an update's references (group, account, labels, IMEI) against the principal's scope once. */
  async resolveUpdate(principal: Principal, update: SimUpdate): Promise<ResolvedUpdate> {
    requirePermission(principal, 'sims:write');
    const resolved: ResolvedUpdate = {};
    if (update.accountId !== undefined) {
      requirePermission(principal, 'sims:import');
      resolved.accountId = (await this.accounts.getAccount(principal, update.accountId)).id;
    }
    if (update.groupId !== undefined) {
      resolved.group = update.groupId === null ? null : await this.groups.getGroup(principal, update.groupId);
    }
    for (const key of ['labels', 'addLabels', 'removeLabels'] as const) {
      const labels = update[key];
      if (labels !== undefined) {
        checkLabels(labels);
        resolved[key] = labels;
      }
    }
    if (update.customFields !== undefined) resolved.customFields = update.customFields;
    if (update.deviceName !== undefined) resolved.deviceName = update.deviceName;
    if (update.imei !== undefined) {
      if (update.imei !== null) {
        const check = checkImei(update.imei);
        if (!check.ok) throw invalid(check.code, check.message);
      }
      resolved.imei = update.imei;
    }
    if (update.planId !== undefined) {
      requirePermission(principal, 'plans:write');
      resolved.plan = update.planId === null ? null : await this.plans.getPlanOwner(principal, update.planId);
    }
    return resolved;
  }

  /** Applies a resolved update to many SIMs in one transaction, one completed change record per changed field. */
  async applyUpdates(
    rows: SimRow[],
    update: ResolvedUpdate,
    origin: ChangeOrigin,
    dryRun = false,
    reason?: string,
  ): Promise<(UpdateOutcome & { iccid: string })[]> {
    const perSim = await this.planRules(rows, update);
    const outcomes = rows.map((row) => {
      const u = perSim.get(row.iccid) ?? update;
      return { iccid: row.iccid, ...('code' in u ? { ok: false as const, ...u } : applyUpdate(row.iccid, repo.attributesOf(row), u)) };
    });
    const changed = outcomes.filter((o): o is typeof o & { ok: true } => o.ok && o.changes.length > 0);
    if (dryRun || changed.length === 0) return outcomes;
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      await repo.updateSimAttributes(trx, changed, now);
      await changes.insertChangeRecords(
        trx,
        changed.flatMap((o) =>
          o.changes.map((c) => ({
            accountId: o.next.accountId,
            iccid: o.iccid,
            ...c,
            source: origin.source,
            actor: origin.actor,
            reason: reason ?? null,
            status: 'completed' as const,
            jobId: origin.jobId ?? null,
            createdAt: now,
            completedAt: now,
          })),
        ),
      );
      await publishEvents(
        trx,
        changed.map((o) => ({
          type: 'sim.updated',
          accountId: o.next.accountId,
          subject: { kind: 'sim' as const, id: o.iccid },
          data: { iccid: o.iccid, changes: o.changes, reason: reason ?? null, source: origin.source, actor: origin.actor, jobId: origin.jobId ?? null },
        })),
        now,
      );
    });
    this.notify(changed.filter((o) => o.changes.some((c) => c.field === 'account' || c.field === 'plan' || c.field === 'group' || c.field === 'imei')).map((o) => o.iccid));
    for (const listener of this.updateListeners) listener(changed.map((o) => o.iccid));
    return outcomes;
  }

  /**
   * Where a plan rule makes one SIM's update differ from the others': a SIM may only be on a plan of its account or
   * of an account above it. Assigning another plan fails for that SIM (`plan_not_available`); a SIM moved to an
   * account the plan is not available to leaves its plan.
   */
  private async planRules(rows: SimRow[], update: ResolvedUpdate): Promise<Map<string, ResolvedUpdate | { code: string; message: string }>> {
    const out = new Map<string, ResolvedUpdate | { code: string; message: string }>();
    const assigning = update.plan ?? undefined;
    const moving = update.accountId !== undefined && update.plan === undefined;
    if (!assigning && !moving) return out;
    const target = (r: SimRow) => update.accountId ?? r.account_id;
    const paths = await repo.accountPathsOf(this.db, rows.map(target));
    if (assigning) {
      for (const r of rows) {
        const account = target(r);
        if (!planFits(assigning.accountId, paths.get(account) ?? '')) {
          out.set(r.iccid, {
            code: 'plan_not_available',
            message: `plan ${assigning.id} belongs to account ${assigning.accountId} and is not available to account ${account} of SIM ${r.iccid}; a SIM may be on a plan of its own account or of an account above it`,
          });
        }
      }
      return out;
    }
    const owners = await this.plans.planOwners([...new Set(rows.flatMap((r) => (r.plan_id ? [r.plan_id] : [])))]);
    for (const r of rows) {
      const owner = r.plan_id ? owners.get(r.plan_id) : undefined;
      if (r.plan_id && (owner === undefined || !planFits(owner, paths.get(target(r)) ?? ''))) out.set(r.iccid, { ...update, plan: null });
    }
    return out;
  }

  async updateSim(principal: Principal, iccid: string, update: SimUpdate & { reason?: string }): Promise<Sim> {
    const resolved = await this.resolveUpdate(principal, update);
    const row = await this.getSimRow(principal, iccid);
    const [outcome] = await this.applyUpdates([row], resolved, originOf(principal), false, update.reason);
    if (!outcome!.ok) throw invalid(outcome!.code, outcome!.message);
    return this.getSim(principal, iccid);
  }

  /** Deletes a SIM that never left inventory (a wrongly loaded card); any other SIM is retired instead. */
  async deleteSim(principal: Principal, iccid: string): Promise<void> {
    requirePermission(principal, 'sims:import');
    const row = await this.getSimRow(principal, iccid);
    if (row.state !== 'inventory') {
      throw conflict('sim_not_in_inventory', `only SIMs in inventory can be deleted; ${iccid} is ${row.state}: retire it instead`);
    }
    await repo.deleteSim(this.db, iccid);
    this.notify([iccid]);
  }

  /** Changes one SIM's lifecycle state; throws with the reason when it cannot. */
  async setState(principal: Principal, iccid: string, input: TransitionInput): Promise<{ sim: Sim; result: TransitionResult }> {
    requirePermission(principal, 'sims:write');
    const row = await this.getSimRow(principal, iccid);
    const [result] = await this.lifecycle.transition([row], input, originOf(principal));
    if (!result!.ok) {
      const status = result!.code === 'provisioning_failed' ? 502 : 409;
      throw new AppError(result!.code!, result!.message!, status, { from: result!.from, to: result!.to, changeRecordId: result!.changeRecordId });
    }
    return { sim: await this.getSim(principal, iccid), result: result! };
  }

  listChangeRecords(principal: Principal, filter: ChangeRecordFilter): Promise<ChangeRecord[]> {
    return changes.listChangeRecords(this.db, scopeOf(principal), filter);
  }

  /** For each identifier, the SIM it belongs to (ICCID ↔ IMSI ↔ MSISDN ↔ IMEI); unknown ones map to null. */
  async lookup(principal: Principal, by: 'iccid' | 'imsi' | 'msisdn' | 'imei', values: string[]): Promise<{ value: string; sim: Sim | null }[]> {
    const sims = await repo.withProfiles(this.db, await repo.lookupIdentifiers(this.db, scopeOf(principal), by, values), this.clock.now());
    const key = (s: Sim): string[] => (by === 'imsi' ? s.profiles.map((p) => p.imsi) : [s[by] ?? '']);
    const index = new Map<string, Sim>();
    for (const s of sims) for (const k of key(s)) index.set(k, s);
    return values.map((value) => ({ value, sim: index.get(value) ?? null }));
  }
}

/** The keyset value of a SIM for a sort, as carried in the cursor. */
function sortValue(sim: Sim, sort: SimSort): string | null {
  switch (sort) {
    case 'iccid':
      return sim.iccid;
    case 'lastSeenAt':
      return sim.lastSeenAt?.toISOString() ?? null;
    case 'usageTodayBytes':
    case 'usageCycleBytes':
      return String(sim[sort]);
    default:
      return sim[sort].toISOString();
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** A cursor value must fit its sort (a cursor of another sort or an edited one is refused, not passed to SQL). */
function checkCursorValue(sort: SimSort, value: string | null): void {
  const fits =
    sort === 'iccid'
      ? value !== null
      : sort === 'usageTodayBytes' || sort === 'usageCycleBytes'
        ? value !== null && /^\d{1,18}$/.test(value)
        : (value === null && sort === 'lastSeenAt') || (value !== null && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)));
  if (!fits) throw invalid('invalid_cursor', 'cursor is not one this API returned for this sort; start again without it');
}

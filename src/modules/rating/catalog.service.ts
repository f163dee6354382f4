import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Db, Executor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import type { PlanDirectory } from '../sims/sim.service.ts';
import * as repo from './catalog.repository.ts';
import type { TopUpProductService } from './top-up-product.service.ts';
import type { CatalogPlan } from './catalog.repository.ts';
import { catalogPlanInputs, createRatePlan, nextPlanVersion, planVersionAt, type RatePlan, type RatePlanInput } from './rate-plan.ts';
import { checkZones, parseZonePricesCsv, parseZonesCsv, type Zone } from './zones.ts';

export type { CatalogPlan } from './catalog.repository.ts';

export interface ZoneInput {
  id: string;
  name: string;
  countries?: string[];
  networks?: string[];
}

export type ZonePatch = Partial<Omit<ZoneInput, 'id'>>;

/** A new plan: its first version. `effectiveFrom` defaults to now. */
export type PlanInput = Omit<RatePlanInput, 'version' | 'effectiveFrom'> & { effectiveFrom?: Date };

/** A change to a plan's terms; the fields left out keep the values of the latest version. */
export type PlanChange = Partial<Omit<RatePlanInput, 'id' | 'version' | 'effectiveFrom'>>;

/** A plan as seen at an instant: the version in force then (null before the first one starts) and all versions. */
export interface PlanView extends CatalogPlan {
  inForce: RatePlan | null;
}

export interface SampleLoadResult {
  zonesCreated: number;
  zonesKept: number;
  plansCreated: number;
  plansKept: number;
  topUpProductsCreated: number;
  topUpProductsKept: number;
}

const SAMPLE_DIR = new URL('./sample/', import.meta.url);

/** The sample catalogue shipped in sample/: the 7 zones of zones.csv and the CNY price list. */
export async function readSampleCatalog(effectiveFrom: Date): Promise<{ zones: Zone[]; plans: RatePlanInput[] }> {
  const [zonesText, pricesText] = await Promise.all([readFile(new URL('zones.csv', SAMPLE_DIR), 'utf8'), readFile(new URL('zone_prices_cny.csv', SAMPLE_DIR), 'utf8')]);
  const zones = parseZonesCsv(zonesText);
  const prices = parseZonePricesCsv(pricesText, { currency: 'CNY', zones });
  return { zones, plans: catalogPlanInputs(prices, zones, effectiveFrom) };
}

/** A plan's wholesale plan must belong to an account above the plan's owner (the caller's account) and share its currency. */
async function checkWholesalePlan(db: Executor, principal: Principal, plan: RatePlan): Promise<void> {
  if (plan.wholesalePlanId === null) return;
  const wholesale = await repo.findPlan(db, plan.wholesalePlanId, principal.accountPath);
  const above = principal.accountPath.split('/').filter((id) => id && id !== principal.accountId);
  if (!wholesale || !above.includes(wholesale.accountId)) {
    throw invalid('invalid_wholesale_plan', `wholesalePlanId ${plan.wholesalePlanId} must name a plan of an account above ${principal.accountId} (the plans it buys from)`);
  }
  const currency = wholesale.versions.at(-1)?.currency;
  if (currency !== plan.currency) {
    throw invalid('invalid_wholesale_plan', `wholesale plan ${plan.wholesalePlanId} is priced in ${currency}; plan ${plan.id} must be in the same currency`);
  }
}

/**
 * The rating catalogue: zones (managed by the operator, read by all) and rate plans with their versions (the
 * operator's wholesale plans, and each reseller's own retail plans). Plans are visible from the account that owns
 * them, the accounts below it, and the accounts above it; never from a sibling.
 */
export class CatalogService implements PlanDirectory {
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    accounts: AccountService,
    private readonly topUpProducts?: TopUpProductService,
  ) {
    // Deleting an account deletes its plans.
    accounts.onAccountDeleted(() => this.notify());
  }

  /**
   * Calls `listener` after any zone or plan change is committed; returns an unsubscribe function. Listeners run
   * synchronously in the request and must not throw: start a reload, handle its errors.
   */
  onCatalogChanged(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at !== -1) this.listeners.splice(at, 1);
    };
  }

  // --- zones ---------------------------------------------------------------------------------------------------

  listZones(_principal: Principal, filter: { after?: string; limit: number }): Promise<Zone[]> {
    return repo.listZones(this.db, filter);
  }

  async getZone(_principal: Principal, id: string): Promise<Zone> {
    const zone = await repo.findZone(this.db, id);
    if (!zone) throw notFound('zone', id);
    return zone;
  }

  async createZone(principal: Principal, input: ZoneInput): Promise<Zone> {
    requirePermission(principal, 'system:write');
    const zone: Zone = { id: input.id, name: input.name, countries: input.countries ?? [], networks: input.networks ?? [] };
    checkZones([zone]);
    await this.write(async (trx) => {
      try {
        await repo.insertZones(trx, principal.accountId, [zone], this.clock.now());
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('zone_exists', `zone ${zone.id} already exists; change it with PATCH /api/v1/zones/${zone.id}`);
        throw e;
      }
    });
    return zone;
  }

  async updateZone(principal: Principal, id: string, patch: ZonePatch): Promise<Zone> {
    requirePermission(principal, 'system:write');
    return this.write(async (trx) => {
      const current = await repo.findZone(trx, id);
      if (!current) throw notFound('zone', id);
      const next: Zone = {
        id,
        name: patch.name ?? current.name,
        countries: patch.countries ?? current.countries,
        networks: patch.networks ?? current.networks,
      };
      checkZones([next]);
      return repo.updateZone(trx, next, this.clock.now());
    });
  }

  /** Deletes a zone no plan version names; a zone in use is refused with `zone_in_use` naming the plans. */
  async deleteZone(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'system:write');
    await this.write(async (trx) => {
      if (!(await repo.findZone(trx, id))) throw notFound('zone', id);
      const plans = await repo.plansUsingZone(trx, id);
      if (plans.length) {
        const shown = plans.slice(0, 20).join(', ') + (plans.length > 20 ? ` and ${plans.length - 20} more` : '');
        throw conflict('zone_in_use', `zone ${id} is used by ${plans.length} rate plan(s): ${shown}; a zone named by any plan version cannot be deleted`, { planIds: plans });
      }
      await repo.deleteZone(trx, id);
    });
  }

  // --- plans ---------------------------------------------------------------------------------------------------

  async listPlans(principal: Principal, filter: { accountId?: string; zoneId?: string; after?: string; limit: number }): Promise<PlanView[]> {
    const now = this.clock.now();
    return (await repo.listPlans(this.db, principal.accountPath, filter)).map((p) => view(p, now));
  }

  async getPlan(principal: Principal, id: string): Promise<PlanView> {
    const plan = await repo.findPlan(this.db, id, principal.accountPath);
    if (!plan) throw notFound('plan', id);
    return view(plan, this.clock.now());
  }

  async getPlanOwner(principal: Principal, planId: string): Promise<{ id: string; accountId: string }> {
    const plan = await this.getPlan(principal, planId);
    return { id: plan.id, accountId: plan.accountId };
  }

  planOwners(planIds: string[]): Promise<Map<string, string>> {
    return repo.planOwners(this.db, planIds);
  }

  /** Creates a plan in the caller's account (operator admins: wholesale plans; reseller admins: their own). */
  async createPlan(principal: Principal, input: PlanInput): Promise<PlanView> {
    requirePermission(principal, 'plans:write');
    const now = this.clock.now();
    await this.write(async (trx) => {
      const plan = createRatePlan({ ...input, version: 1, effectiveFrom: input.effectiveFrom ?? now }, await repo.listZones(trx));
      if (await repo.findPlanOwner(trx, plan.id)) throw planExists(plan.id);
      await checkWholesalePlan(trx, principal, plan);
      try {
        await repo.insertPlanVersions(trx, principal.accountId, [plan], now);
      } catch (e) {
        if (isUniqueViolation(e)) throw planExists(plan.id);
        throw e;
      }
    });
    return this.getPlan(principal, input.id);
  }

  /**
   * Changes a plan from `effectiveFrom` on: a new version numbered after the latest, with the latest terms and the
   * change. Only the admins of the plan's own account change it.
   */
  async changePlan(principal: Principal, id: string, change: PlanChange, effectiveFrom: Date): Promise<PlanView> {
    requirePermission(principal, 'plans:write');
    const plan = await this.getPlan(principal, id);
    if (plan.accountId !== principal.accountId) {
      throw forbidden(`plan ${id} belongs to account ${plan.accountId}; only that account's admins change it (create a plan of your own instead)`);
    }
    const now = this.clock.now();
    await this.write(async (trx) => {
      const current = await repo.findPlan(trx, id, principal.accountPath);
      const version = nextPlanVersion(current?.versions ?? plan.versions, change, effectiveFrom, now, await repo.listZones(trx));
      await checkWholesalePlan(trx, principal, version);
      try {
        await repo.insertPlanVersions(trx, plan.accountId, [version], now);
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('concurrent_change', `plan ${id} got version ${version.version} from another request; read it again and retry`);
        throw e;
      }
    });
    return this.getPlan(principal, id);
  }

  // --- sample --------------------------------------------------------------------------------------------------

  /**
   * Loads the sample catalogue (7 zones, one plan per zone and tier of the CNY price list, and the sample top-up
   * products) into the operator's
   * account. Idempotent: zones and plans whose id already exists are kept as they are, so a second load changes nothing.
   */
  async loadSample(principal: Principal): Promise<SampleLoadResult> {
    requirePermission(principal, 'system:write');
    const now = this.clock.now();
    const sample = await readSampleCatalog(now);
    const result = await this.write(async (trx) => {
      const zoneIds = await repo.existingZoneIds(trx, sample.zones.map((z) => z.id));
      const newZones = sample.zones.filter((z) => !zoneIds.has(z.id));
      await repo.insertZones(trx, principal.accountId, newZones, now);
      const zones = await repo.listZones(trx);
      const planIds = await repo.existingPlanIds(trx, sample.plans.map((p) => p.id));
      const newPlans = sample.plans.filter((p) => !planIds.has(p.id)).map((p) => createRatePlan(p, zones));
      await repo.insertPlanVersions(trx, principal.accountId, newPlans, now);
      return { zonesCreated: newZones.length, zonesKept: zoneIds.size, plansCreated: newPlans.length, plansKept: planIds.size };
    }, false);
    if (result.zonesCreated + result.plansCreated > 0) this.notify();
    const products = (await this.topUpProducts?.loadSample(principal.accountId)) ?? { created: 0, kept: 0 };
    return { ...result, topUpProductsCreated: products.created, topUpProductsKept: products.kept };
  }

  // NOTE: catalogue writes are rare. One transaction-scoped advisory lock serialises them, so that a plan cannot be
  // created naming a zone that a concurrent request is deleting, and checks against the zones see committed rows.
  private async write<T>(fn: (trx: Executor) => Promise<T>, notify = true): Promise<T> {
    const result = await this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext('meridian.catalog'))`.execute(trx);
      return fn(trx);
    });
    if (notify) this.notify();
    return result;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

const planExists = (id: string) => conflict('plan_exists', `a rate plan with id ${id} already exists; choose another id, or add a version to your plan with POST /api/v1/plans/${id}/versions`);

function view(plan: CatalogPlan, now: Date): PlanView {
  return { ...plan, inForce: planVersionAt(plan.versions, now) ?? null };
}


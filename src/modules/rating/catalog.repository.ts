/** SQL of the rating catalogue: zones and rate plan versions, mapped to the domain types of zones.ts and rate-plan.ts. */
import { type Selectable, sql } from 'kysely';
import type { Executor, RatePlanTable, ZoneTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { RatePlan } from './rate-plan.ts';
import type { Zone } from './zones.ts';

export const toZone = (r: Selectable<ZoneTable>): Zone => ({ id: r.id, name: r.name, countries: r.countries, networks: r.networks });

/** The terms of a plan version as stored in `rate_plans.definition` (everything but its key, name and start). */
function definitionOf(plan: RatePlan): Record<string, unknown> {
  const { id: _id, version: _version, effectiveFrom: _from, name: _name, ...terms } = plan;
  return terms;
}

export function toRatePlan(r: Selectable<RatePlanTable>): RatePlan {
  const terms = r.definition as unknown as Omit<RatePlan, 'id' | 'version' | 'effectiveFrom' | 'name'>;
  // Versions stored before plans could name a wholesale plan have none.
  return { ...terms, wholesalePlanId: terms.wholesalePlanId ?? null, id: r.id, version: r.version, effectiveFrom: r.effective_from, name: r.name };
}

export async function insertZones(db: Executor, accountId: string, zones: readonly Zone[], now: Date): Promise<void> {
  if (zones.length === 0) return;
  await db
    .insertInto('zones')
    .values(zones.map((z) => ({ id: z.id, account_id: accountId, name: z.name, countries: [...z.countries], networks: [...z.networks], created_at: now, updated_at: now })))
    .execute();
}

export async function insertPlanVersions(db: Executor, accountId: string, plans: readonly RatePlan[], now: Date): Promise<void> {
  if (plans.length === 0) return;
  await db
    .insertInto('rate_plans')
    .values(
      plans.map((p) => ({
        id: p.id,
        version: p.version,
        account_id: accountId,
        name: p.name,
        effective_from: p.effectiveFrom,
        definition: JSON.stringify(definitionOf(p)),
        created_at: now,
      })),
    )
    .execute();
}

/** Every zone and every version of every plan: what the usage engine rates with. */
export async function loadRatingCatalog(db: Executor): Promise<{ zones: Zone[]; plans: RatePlan[] }> {
  const [zones, plans] = await Promise.all([
    db.selectFrom('zones').selectAll().orderBy('id').execute(),
    db.selectFrom('rate_plans').selectAll().orderBy('id').orderBy('version').execute(),
  ]);
  return { zones: zones.map(toZone), plans: plans.map(toRatePlan) };
}

// --- zones -------------------------------------------------------------------------------------------------------

export async function findZone(db: Executor, id: string): Promise<Zone | undefined> {
  const row = await db.selectFrom('zones').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toZone(row);
}

export async function listZones(db: Executor, filter: { after?: string; limit?: number } = {}): Promise<Zone[]> {
  let q = db.selectFrom('zones').selectAll();
  if (filter.after) q = q.where('id', '>', filter.after);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  return (await q.orderBy('id').execute()).map(toZone);
}

export async function updateZone(db: Executor, zone: Zone, now: Date): Promise<Zone> {
  const row = await db
    .updateTable('zones')
    .set({ name: zone.name, countries: [...zone.countries], networks: [...zone.networks], updated_at: now })
    .where('id', '=', zone.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toZone(row);
}

export async function deleteZone(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('zones').where('id', '=', id).execute();
}

/** Ids of the plans with a version naming the zone, as coverage or as a roaming zone. */
export async function plansUsingZone(db: Executor, zoneId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('rate_plans')
    .select('id')
    .distinct()
    .where((eb) =>
      eb.or([
        eb(sql<unknown>`definition->'coverageZoneIds'`, '@>', sql<unknown>`jsonb_build_array(${zoneId}::text)`),
        eb(sql<unknown>`definition->'outOfCoverage'->'zoneRates'`, '@>', sql<unknown>`jsonb_build_array(jsonb_build_object('zoneId', ${zoneId}::text))`),
      ]),
    )
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

// --- rate plans --------------------------------------------------------------------------------------------------

/** A rate plan with its owner account and every version, oldest first. */
export interface CatalogPlan {
  id: string;
  accountId: string;
  versions: RatePlan[];
}

/**
 * Plans visible from the account at `path`: those of the account itself and of the accounts above it (the plans it
 * can sell or use), and those of the accounts below it. A sibling's plans are never visible.
 */
function visiblePlans(db: Executor, path: string) {
  const above = path.split('/').filter(Boolean);
  return db
    .selectFrom('rate_plans')
    .where((eb) => eb.or([eb('rate_plans.account_id', '=', sql<string>`any(${above}::text[])`), eb('rate_plans.account_id', 'in', accountIdsUnder(db, path))]));
}

function groupVersions(rows: Selectable<RatePlanTable>[]): CatalogPlan[] {
  const out: CatalogPlan[] = [];
  for (const r of rows) {
    const last = out.at(-1);
    if (last && last.id === r.id) last.versions.push(toRatePlan(r));
    else out.push({ id: r.id, accountId: r.account_id, versions: [toRatePlan(r)] });
  }
  return out;
}

/** The plan with its versions if it is visible from `path`. */
export async function findPlan(db: Executor, id: string, path: string): Promise<CatalogPlan | undefined> {
  const rows = await visiblePlans(db, path).selectAll().where('id', '=', id).orderBy('version').execute();
  return groupVersions(rows)[0];
}

/** The owner of a plan id, whoever can see it (ids are unique across accounts). */
export async function findPlanOwner(db: Executor, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('rate_plans').select('account_id').where('id', '=', id).limit(1).executeTakeFirst();
  return row?.account_id;
}

/** The owners of several plan ids (ids without any version are left out). */
export async function planOwners(db: Executor, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('rate_plans')
    .select(['id', 'account_id'])
    .distinct()
    .where('id', '=', sql<string>`any(${ids}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.id, r.account_id]));
}

export async function listPlans(
  db: Executor,
  path: string,
  filter: { accountId?: string; zoneId?: string; after?: string; limit: number },
): Promise<CatalogPlan[]> {
  let ids = visiblePlans(db, path).select('id').distinct();
  if (filter.accountId) ids = ids.where('account_id', '=', filter.accountId);
  if (filter.zoneId) ids = ids.where(sql<unknown>`definition->'coverageZoneIds'`, '@>', sql<unknown>`jsonb_build_array(${filter.zoneId}::text)`);
  if (filter.after) ids = ids.where('id', '>', filter.after);
  const page = (await ids.orderBy('id').limit(filter.limit).execute()).map((r) => r.id);
  if (page.length === 0) return [];
  const rows = await db
    .selectFrom('rate_plans')
    .selectAll()
    .where('id', '=', sql<string>`any(${page}::text[])`)
    .orderBy('id')
    .orderBy('version')
    .execute();
  return groupVersions(rows);
}

/** Ids of the plans that exist among `ids`. */
export async function existingPlanIds(db: Executor, ids: string[]): Promise<Set<string>> {
  return new Set((await planOwners(db, ids)).keys());
}

export async function existingZoneIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('zones').select('id').where('id', '=', sql<string>`any(${ids}::text[])`).execute();
  return new Set(rows.map((r) => r.id));
}

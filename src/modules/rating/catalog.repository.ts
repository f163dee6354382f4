/** SQL of the rating catalogue: zones and rate plan versions, mapped to the domain types of zones.ts and rate-plan.ts. */
import type { Selectable } from 'kysely';
import type { Executor, RatePlanTable, ZoneTable } from '../../db/database.ts';
import type { RatePlan } from './rate-plan.ts';
import type { Zone } from './zones.ts';

export const toZone = (r: Selectable<ZoneTable>): Zone => ({ id: r.id, name: r.name, countries: r.countries, networks: r.networks });

/** The terms of a plan version as stored in `rate_plans.definition` (everything but its key, name and start). */
function definitionOf(plan: RatePlan): Record<string, unknown> {
  const { id: _id, version: _version, effectiveFrom: _from, name: _name, ...terms } = plan;
  return terms;
}

export function toRatePlan(r: Selectable<RatePlanTable>): RatePlan {
  return { ...(r.definition as unknown as Omit<RatePlan, 'id' | 'version' | 'effectiveFrom' | 'name'>), id: r.id, version: r.version, effectiveFrom: r.effective_from, name: r.name };
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

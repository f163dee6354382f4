import { type Selectable, sql } from 'kysely';
import type { Executor, TrafficRuleTable } from '../../db/database.ts';
import { likePrefix } from '../../db/scope.ts';
import type { TrafficRule } from './traffic-class.ts';

export interface TrafficRuleRecord extends TrafficRule {
  createdBy: string | null;
  createdAt: Date;
}

const toRule = (r: Selectable<TrafficRuleTable>): TrafficRuleRecord => ({
  id: r.id,
  accountId: r.account_id,
  priority: r.priority,
  apn: r.apn,
  zoneId: r.zone_id,
  destinationClass: r.destination_class,
  trafficClass: r.traffic_class,
  payerAccountId: r.payer_account_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** Every rule and every account's path: what the usage engine classifies records with. */
export async function loadTrafficRules(db: Executor): Promise<{ rules: TrafficRule[]; accounts: { id: string; path: string }[] }> {
  const rules = await db.selectFrom('traffic_rules').selectAll().execute();
  // NOTE: the account paths are needed only while there are rules.
  const accounts = rules.length ? await db.selectFrom('accounts').select(['id', 'path']).execute() : [];
  return { rules: rules.map(toRule), accounts };
}

export async function insertTrafficRule(db: Executor, r: TrafficRuleRecord): Promise<void> {
  await db
    .insertInto('traffic_rules')
    .values({
      id: r.id,
      account_id: r.accountId,
      priority: r.priority,
      apn: r.apn,
      zone_id: r.zoneId,
      destination_class: r.destinationClass,
      traffic_class: r.trafficClass,
      payer_account_id: r.payerAccountId,
      created_by: r.createdBy,
      created_at: r.createdAt,
    })
    .execute();
}

/** Rules of accounts at or under `path`. */
export async function listTrafficRules(db: Executor, path: string, filter: { accountId?: string; after?: string; limit: number }): Promise<TrafficRuleRecord[]> {
  let q = db
    .selectFrom('traffic_rules')
    .innerJoin('accounts', 'accounts.id', 'traffic_rules.account_id')
    .selectAll('traffic_rules')
    .where('accounts.path', 'like', likePrefix(path));
  if (filter.accountId) q = q.where('traffic_rules.account_id', '=', filter.accountId);
  if (filter.after) q = q.where('traffic_rules.id', '>', filter.after);
  return (await q.orderBy('traffic_rules.id').limit(filter.limit).execute()).map(toRule);
}

export async function findTrafficRule(db: Executor, id: string, path: string): Promise<TrafficRuleRecord | undefined> {
  const row = await db
    .selectFrom('traffic_rules')
    .innerJoin('accounts', 'accounts.id', 'traffic_rules.account_id')
    .selectAll('traffic_rules')
    .where('traffic_rules.id', '=', id)
    .where('accounts.path', 'like', likePrefix(path))
    .executeTakeFirst();
  return row && toRule(row);
}

export async function deleteTrafficRule(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('traffic_rules').where('id', '=', sql<string>`${id}`).execute();
}

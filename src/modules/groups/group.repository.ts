import type { Selectable } from 'kysely';
import type { Executor, GroupTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';

export interface Group {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  createdAt: Date;
}

const toGroup = (r: Selectable<GroupTable>): Group => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
});

export async function insertGroup(db: Executor, g: Omit<Group, 'createdAt'>): Promise<Group> {
  const row = await db
    .insertInto('groups')
    .values({ id: g.id, account_id: g.accountId, name: g.name, description: g.description })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGroup(row);
}

export async function findGroup(db: Executor, id: string, scopePath: string): Promise<Group | undefined> {
  const row = await db
    .selectFrom('groups')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', 'in', accountIdsUnder(db, scopePath))
    .executeTakeFirst();
  return row && toGroup(row);
}

/** Groups by name within one account (CSV import names groups). */
export async function findGroupsByName(db: Executor, accountId: string): Promise<Map<string, Group>> {
  const rows = await db.selectFrom('groups').selectAll().where('account_id', '=', accountId).execute();
  return new Map(rows.map((r) => [r.name, toGroup(r)]));
}

export async function listGroups(
  db: Executor,
  scopePath: string,
  filter: { accountId?: string; name?: string; after?: string; limit: number },
): Promise<Group[]> {
  let q = db.selectFrom('groups').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.name) q = q.where('name', '=', filter.name);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toGroup);
}

export async function updateGroup(db: Executor, id: string, patch: { name?: string; description?: string | null }): Promise<Group> {
  return toGroup(await db.updateTable('groups').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow());
}

export async function deleteGroup(db: Executor, id: string): Promise<void> {
  await db.updateTable('sims').set({ group_id: null }).where('group_id', '=', id).execute();
  await db.deleteFrom('groups').where('id', '=', id).execute();
}

import type { Selectable } from 'kysely';
import type { AccountTable, Executor } from '../../db/database.ts';
import { likePrefix } from '../../db/scope.ts';
import type { Account } from './account.ts';

const toAccount = (r: Selectable<AccountTable>): Account => ({
  id: r.id,
  parentId: r.parent_id,
  path: r.path,
  kind: r.kind,
  name: r.name,
  timezone: r.timezone,
  createdAt: r.created_at,
});

export async function insertAccount(db: Executor, a: Omit<Account, 'createdAt'>): Promise<Account> {
  const row = await db
    .insertInto('accounts')
    .values({ id: a.id, parent_id: a.parentId, path: a.path, kind: a.kind, name: a.name, timezone: a.timezone })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAccount(row);
}

/** The account with this id if it lies under `scopePath`. */
export async function findAccount(db: Executor, id: string, scopePath: string): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', id)
    .where('path', 'like', likePrefix(scopePath))
    .executeTakeFirst();
  return row && toAccount(row);
}

export async function findAccountById(db: Executor, id: string): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toAccount(row);
}

export async function findRootAccount(db: Executor): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('parent_id', 'is', null).executeTakeFirst();
  return row && toAccount(row);
}

export async function listAccounts(
  db: Executor,
  scopePath: string,
  filter: { parentId?: string; kind?: string; after?: string; limit: number },
): Promise<Account[]> {
  let q = db.selectFrom('accounts').selectAll().where('path', 'like', likePrefix(scopePath));
  if (filter.parentId) q = q.where('parent_id', '=', filter.parentId);
  if (filter.kind) q = q.where('kind', '=', filter.kind as Account['kind']);
  if (filter.after) q = q.where('id', '>', filter.after);
  const rows = await q.orderBy('id').limit(filter.limit).execute();
  return rows.map(toAccount);
}

export async function updateAccount(
  db: Executor,
  id: string,
  patch: { name?: string; timezone?: string },
): Promise<Account> {
  const row = await db.updateTable('accounts').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  return toAccount(row);
}

/** Counts what still hangs off an account, to refuse deleting one that is in use. */
export async function countAccountDependents(db: Executor, id: string): Promise<{ children: number; sims: number }> {
  const [children, sims] = await Promise.all([
    db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('parent_id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('sims').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', id).executeTakeFirstOrThrow(),
  ]);
  return { children: Number(children.n), sims: Number(sims.n) };
}

export async function deleteAccountCascade(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('api_keys').where('account_id', '=', id).execute();
  await db.deleteFrom('gateways').where('account_id', '=', id).execute();
  await db.deleteFrom('rate_plans').where('account_id', '=', id).execute();
  await db.deleteFrom('users').where('account_id', '=', id).execute();
  await db.deleteFrom('groups').where('account_id', '=', id).execute();
  await db.deleteFrom('jobs').where('account_id', '=', id).execute();
  await db.deleteFrom('accounts').where('id', '=', id).execute();
}

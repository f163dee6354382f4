import type { Selectable } from 'kysely';
import type { AccountTable, ApiKeyTable, Executor, UserTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { type AccountKind, ADMIN_ROLES, type Role } from '../accounts/account.ts';

export interface User {
  id: string;
  accountId: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

export interface ApiKey {
  id: string;
  accountId: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

export interface PrincipalRow {
  accountId: string;
  accountPath: string;
  accountKind: AccountKind;
  role: Role;
  subjectId: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  disabled: boolean;
}

const toUser = (r: Selectable<UserTable>): User => ({
  id: r.id,
  accountId: r.account_id,
  email: r.email,
  name: r.name,
  role: r.role as Role,
  disabled: r.disabled,
  createdAt: r.created_at,
});

const toApiKey = (r: Selectable<ApiKeyTable>): ApiKey => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  role: r.role as Role,
  prefix: r.prefix,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
});

export async function insertUser(
  db: Executor,
  u: { id: string; accountId: string; email: string; name: string; role: Role; passwordHash: string },
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({ id: u.id, account_id: u.accountId, email: u.email, name: u.name, role: u.role, password_hash: u.passwordHash })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function findUserForLogin(
  db: Executor,
  email: string,
): Promise<(User & { passwordHash: string }) | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  return row && { ...toUser(row), passwordHash: row.password_hash };
}

export async function findUser(db: Executor, id: string, scopePath: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', 'in', accountIdsUnder(db, scopePath))
    .executeTakeFirst();
  return row && toUser(row);
}

export async function listUsers(
  db: Executor,
  scopePath: string,
  filter: { accountId?: string; after?: string; limit: number },
): Promise<User[]> {
  let q = db.selectFrom('users').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toUser);
}

export async function updateUser(
  db: Executor,
  id: string,
  patch: { name?: string; role?: Role; disabled?: boolean; password_hash?: string },
): Promise<User> {
  return toUser(await db.updateTable('users').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow());
}

/** E-mail addresses of the enabled admin users of each account (owner notices), by account id. */
export async function adminEmailsOf(db: Executor, accountIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (accountIds.length === 0) return out;
  const rows = await db
    .selectFrom('users')
    .select(['account_id', 'email'])
    .where('account_id', 'in', [...accountIds])
    .where('role', 'in', ADMIN_ROLES)
    .where('disabled', '=', false)
    .orderBy('id')
    .execute();
  for (const r of rows) out.set(r.account_id, [...(out.get(r.account_id) ?? []), r.email]);
  return out;
}

export async function deleteUser(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function insertApiKey(
  db: Executor,
  k: { id: string; accountId: string; name: string; role: Role; prefix: string; secretHash: string; createdBy: string | null; expiresAt: Date | null },
): Promise<ApiKey> {
  const row = await db
    .insertInto('api_keys')
    .values({
      id: k.id,
      account_id: k.accountId,
      name: k.name,
      role: k.role,
      prefix: k.prefix,
      secret_hash: k.secretHash,
      created_by: k.createdBy,
      expires_at: k.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toApiKey(row);
}

export async function findApiKey(db: Executor, id: string, scopePath: string): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', 'in', accountIdsUnder(db, scopePath))
    .executeTakeFirst();
  return row && toApiKey(row);
}

export async function listApiKeys(
  db: Executor,
  scopePath: string,
  filter: { accountId?: string; after?: string; limit: number },
): Promise<ApiKey[]> {
  let q = db.selectFrom('api_keys').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toApiKey);
}

export async function revokeApiKey(db: Executor, id: string, at: Date): Promise<ApiKey> {
  return toApiKey(
    await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
  );
}

export async function touchApiKey(db: Executor, id: string, at: Date): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

const withAccount = (row: Pick<Selectable<AccountTable>, 'path' | 'kind'>) => ({
  accountPath: row.path,
  accountKind: row.kind,
});

export async function findPrincipalByKeyHash(db: Executor, secretHash: string): Promise<PrincipalRow | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .select(['api_keys.id', 'api_keys.account_id', 'api_keys.role', 'api_keys.expires_at', 'api_keys.revoked_at', 'accounts.path', 'accounts.kind'])
    .where('api_keys.secret_hash', '=', secretHash)
    .executeTakeFirst();
  return (
    row && {
      accountId: row.account_id,
      ...withAccount(row),
      role: row.role as Role,
      subjectId: row.id,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      disabled: false,
    }
  );
}

export async function insertLoginSession(db: Executor, tokenHash: string, userId: string, expiresAt: Date): Promise<void> {
  await db.insertInto('login_sessions').values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt }).execute();
}

export async function deleteLoginSession(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom('login_sessions').where('token_hash', '=', tokenHash).execute();
}

export async function findPrincipalBySessionHash(db: Executor, tokenHash: string): Promise<PrincipalRow | undefined> {
  const row = await db
    .selectFrom('login_sessions')
    .innerJoin('users', 'users.id', 'login_sessions.user_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select(['users.id', 'users.account_id', 'users.role', 'users.disabled', 'login_sessions.expires_at', 'accounts.path', 'accounts.kind'])
    .where('login_sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
  return (
    row && {
      accountId: row.account_id,
      ...withAccount(row),
      role: row.role as Role,
      subjectId: row.id,
      expiresAt: row.expires_at,
      revokedAt: null,
      disabled: row.disabled,
    }
  );
}

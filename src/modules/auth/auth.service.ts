import { createHash } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, conflict, invalid, notFound } from '../../shared/errors.ts';
import { newId, newSecret } from '../../shared/ids.ts';
import { type Account, type Principal, ROLES_BY_KIND, type Role } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import * as repo from './auth.repository.ts';
import type { ApiKey, PrincipalRow, User } from './auth.repository.ts';
import { hashPassword, isAcceptablePassword, PASSWORD_RULE, verifyPassword } from './password.ts';
import { LoginThrottle } from './login-throttle.ts';

export const API_KEY_PREFIX = 'mk';
const SESSION_PREFIX = 'ms';
const KEY_CACHE_MS = 10_000;
const TOUCH_EVERY_MS = 60_000;

/** API keys and session tokens are long random secrets: a fast hash is the right tool (no salt needed). */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface AuthSettings {
  sessionTtlHours: number;
  loginMaxFailures: number;
  loginLockMinutes: number;
}

function checkRole(account: Account, role: Role): void {
  const allowed = ROLES_BY_KIND[account.kind];
  if (!allowed.includes(role)) {
    throw invalid('invalid_role', `role ${role} cannot be held in a ${account.kind} account; allowed: ${allowed.join(', ')}`, { allowed });
  }
}

export class AuthService {
  private readonly keyCache = new Map<string, { principal: Principal; expiresAt: Date | null; cachedAt: number }>();
  private readonly lastTouched = new Map<string, number>();
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    private readonly clock: Clock,
    private readonly settings: AuthSettings,
  ) {
    this.throttle = new LoginThrottle(clock, settings.loginMaxFailures, settings.loginLockMinutes * 60_000);
    // The keys of a deleted account are gone from the database; their cached principals must go too.
    accounts.onAccountDeleted((accountId) => {
      for (const [hash, entry] of this.keyCache) if (entry.principal.accountId === accountId) this.keyCache.delete(hash);
    });
  }

  // --- authentication ---

  /** Resolves an API key secret to its principal; `unauthorized` when unknown, revoked or expired. */
  async authenticateApiKey(secret: string): Promise<Principal> {
    const hash = hashToken(secret);
    const now = this.clock.now();
    const cached = this.keyCache.get(hash);
    if (cached && Date.now() - cached.cachedAt < KEY_CACHE_MS) {
      if (cached.expiresAt && cached.expiresAt <= now) throw unauthorized('API key expired');
      return cached.principal;
    }
    const row = await repo.findPrincipalByKeyHash(this.db, hash);
    const principal = this.checkPrincipalRow(row, 'key', 'api', now);
    this.keyCache.set(hash, { principal, expiresAt: row?.expiresAt ?? null, cachedAt: Date.now() });
    this.touchKey(row!.subjectId, now);
    return principal;
  }

  async authenticateSession(token: string): Promise<Principal> {
    const row = await repo.findPrincipalBySessionHash(this.db, hashToken(token));
    return this.checkPrincipalRow(row, 'user', 'web', this.clock.now());
  }

  private checkPrincipalRow(row: PrincipalRow | undefined, kind: 'key' | 'user', source: 'api' | 'web', now: Date): Principal {
    if (!row) throw unauthorized(kind === 'key' ? 'unknown API key' : 'not logged in or session ended');
    if (row.revokedAt) throw unauthorized('API key revoked');
    if (row.expiresAt && row.expiresAt <= now) throw unauthorized(kind === 'key' ? 'API key expired' : 'session expired');
    if (row.disabled) throw unauthorized('user disabled');
    return {
      accountId: row.accountId,
      accountPath: row.accountPath,
      accountKind: row.accountKind,
      role: row.role,
      actor: `${kind}:${row.subjectId}`,
      source,
    };
  }

  private touchKey(id: string, now: Date): void {
    const last = this.lastTouched.get(id) ?? 0;
    if (Date.now() - last < TOUCH_EVERY_MS) return;
    this.lastTouched.set(id, Date.now());
    repo.touchApiKey(this.db, id, now).catch(() => undefined);
  }

  /** Checks a password; throttled per e-mail address and per client address. Returns a session token. */
  async login(email: string, password: string, clientIp: string): Promise<{ token: string; user: User; expiresAt: Date }> {
    const keys = [`email:${email.toLowerCase()}`, `ip:${clientIp}`];
    const retryAfter = this.throttle.blockedFor(keys);
    if (retryAfter > 0) {
      throw new AppError('login_throttled', `too many failed logins; try again in ${Math.ceil(retryAfter / 1000)} s`, 429, {
        retryAfterSeconds: Math.ceil(retryAfter / 1000),
      });
    }
    const found = await repo.findUserForLogin(this.db, email.toLowerCase());
    const ok = found !== undefined && !found.disabled && (await verifyPassword(password, found.passwordHash));
    if (!ok || !found) {
      this.throttle.fail(keys);
      throw unauthorized('wrong e-mail or password');
    }
    this.throttle.succeed(keys);
    const token = newSecret(SESSION_PREFIX);
    const expiresAt = new Date(this.clock.now().getTime() + this.settings.sessionTtlHours * 3_600_000);
    await repo.insertLoginSession(this.db, hashToken(token), found.id, expiresAt);
    const { passwordHash: _, ...user } = found;
    return { token, user, expiresAt };
  }

  async logout(token: string): Promise<void> {
    await repo.deleteLoginSession(this.db, hashToken(token));
  }

  // --- users ---

  async createUser(
    principal: Principal,
    input: { accountId?: string; email: string; name: string; role: Role; password: string },
  ): Promise<User> {
    requirePermission(principal, 'users:write');
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    checkRole(account, input.role);
    if (!isAcceptablePassword(input.password)) throw invalid('weak_password', `password must be ${PASSWORD_RULE}`);
    try {
      return await repo.insertUser(this.db, {
        id: newId('usr'),
        accountId: account.id,
        email: input.email.toLowerCase(),
        name: input.name,
        role: input.role,
        passwordHash: await hashPassword(input.password),
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('user_exists', `a user with e-mail ${input.email} already exists`);
      throw e;
    }
  }

  async getUser(principal: Principal, id: string): Promise<User> {
    const user = await repo.findUser(this.db, id, principal.accountPath);
    if (!user) throw notFound('user', id);
    return user;
  }

  listUsers(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<User[]> {
    return repo.listUsers(this.db, principal.accountPath, filter);
  }

  async updateUser(
    principal: Principal,
    id: string,
    patch: { name?: string; role?: Role; disabled?: boolean; password?: string },
  ): Promise<User> {
    requirePermission(principal, 'users:write');
    const user = await this.getUser(principal, id);
    if (patch.role) checkRole(await this.accounts.getAccount(principal, user.accountId), patch.role);
    if (patch.password !== undefined && !isAcceptablePassword(patch.password)) {
      throw invalid('weak_password', `password must be ${PASSWORD_RULE}`);
    }
    return repo.updateUser(this.db, id, {
      name: patch.name,
      role: patch.role,
      disabled: patch.disabled,
      password_hash: patch.password === undefined ? undefined : await hashPassword(patch.password),
    });
  }

  async deleteUser(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'users:write');
    await this.getUser(principal, id);
    if (principal.actor === `user:${id}`) throw invalid('cannot_delete_self', 'a user cannot delete itself');
    await repo.deleteUser(this.db, id);
  }

  // --- API keys ---

  /** Creates an API key; the secret is returned once and only its hash is stored. */
  async createApiKey(
    principal: Principal,
    input: { accountId?: string; name: string; role?: Role; expiresAt?: Date },
  ): Promise<{ apiKey: ApiKey; secret: string }> {
    requirePermission(principal, 'users:write');
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    const role = input.role ?? ROLES_BY_KIND[account.kind][0]!;
    checkRole(account, role);
    if (input.expiresAt && input.expiresAt <= this.clock.now()) {
      throw invalid('invalid_expiry', 'expiresAt must be in the future');
    }
    return this.issueApiKey(account.id, input.name, role, principal.actor, input.expiresAt ?? null);
  }

  /** Stores a key for an account without permission checks (first start, CLI on the server). */
  async issueApiKey(
    accountId: string,
    name: string,
    role: Role,
    createdBy: string | null,
    expiresAt: Date | null,
    secret: string = newSecret(API_KEY_PREFIX),
  ): Promise<{ apiKey: ApiKey; secret: string }> {
    const apiKey = await repo.insertApiKey(this.db, {
      id: newId('key'),
      accountId,
      name,
      role,
      prefix: secret.slice(0, 8),
      secretHash: hashToken(secret),
      createdBy,
      expiresAt,
    });
    return { apiKey, secret };
  }

  async getApiKey(principal: Principal, id: string): Promise<ApiKey> {
    const key = await repo.findApiKey(this.db, id, principal.accountPath);
    if (!key) throw notFound('api_key', id);
    return key;
  }

  listApiKeys(principal: Principal, filter: { accountId?: string; after?: string; limit: number }): Promise<ApiKey[]> {
    return repo.listApiKeys(this.db, principal.accountPath, filter);
  }

  async revokeApiKey(principal: Principal, id: string): Promise<ApiKey> {
    requirePermission(principal, 'users:write');
    const key = await this.getApiKey(principal, id);
    if (key.revokedAt) return key;
    const revoked = await repo.revokeApiKey(this.db, id, this.clock.now());
    // NOTE: cached principals of this key must not outlive the revocation in this process.
    for (const [hash, entry] of this.keyCache) if (entry.principal.actor === `key:${id}`) this.keyCache.delete(hash);
    return revoked;
  }

  /** Creates the first user of an account without permission checks (first start, CLI on the server). */
  async createFirstUser(account: Account, email: string, password: string): Promise<User> {
    return repo.insertUser(this.db, {
      id: newId('usr'),
      accountId: account.id,
      email: email.toLowerCase(),
      name: 'Administrator',
      role: ROLES_BY_KIND[account.kind][0]!,
      passwordHash: await hashPassword(password),
    });
  }
}

export const unauthorized = (message: string): AppError => new AppError('unauthorized', message, 401);

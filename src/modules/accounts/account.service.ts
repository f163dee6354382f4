import { isTimeZone } from '../../shared/time-zone.ts';
import type { Db } from '../../db/database.ts';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { type Account, type AccountKind, CHILD_KINDS, can, childPath, type Permission, type Principal } from './account.ts';
import * as repo from './account.repository.ts';

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!can(principal.role, permission)) {
    throw forbidden(`role ${principal.role} may not do this (needs permission ${permission})`);
  }
}

function checkTimezone(timezone: string): void {
  if (!isTimeZone(timezone)) throw invalid('invalid_timezone', `${timezone} is not an IANA time zone (e.g. Asia/Shanghai)`);
}

export class AccountService {
  private readonly deletedListeners: ((accountId: string) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly defaultTimezone: string,
  ) {}

  /** An account the principal may see, or `account_not_found`. */
  async getAccount(principal: Principal, id: string): Promise<Account> {
    const account = await repo.findAccount(this.db, id, principal.accountPath);
    if (!account) throw notFound('account', id);
    return account;
  }

  listAccounts(
    principal: Principal,
    filter: { parentId?: string; kind?: AccountKind; after?: string; limit: number },
  ): Promise<Account[]> {
    return repo.listAccounts(this.db, principal.accountPath, filter);
  }

  async createAccount(
    principal: Principal,
    input: { parentId?: string; kind: AccountKind; name: string; timezone?: string },
  ): Promise<Account> {
    requirePermission(principal, 'accounts:write');
    const parent = await this.getAccount(principal, input.parentId ?? principal.accountId);
    if (!CHILD_KINDS[parent.kind].includes(input.kind)) {
      const allowed = CHILD_KINDS[parent.kind];
      throw invalid(
        'invalid_account_kind',
        `a ${parent.kind} account cannot have a ${input.kind} child; allowed: ${allowed.length ? allowed.join(', ') : 'none'}`,
        { allowed },
      );
    }
    const timezone = input.timezone ?? parent.timezone ?? this.defaultTimezone;
    checkTimezone(timezone);
    const id = newId('acc');
    return repo.insertAccount(this.db, { id, parentId: parent.id, path: childPath(parent.path, id), kind: input.kind, name: input.name, timezone });
  }

  async updateAccount(principal: Principal, id: string, patch: { name?: string; timezone?: string }): Promise<Account> {
    requirePermission(principal, 'accounts:write');
    await this.getAccount(principal, id);
    if (patch.timezone) checkTimezone(patch.timezone);
    return repo.updateAccount(this.db, id, patch);
  }

  async deleteAccount(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'accounts:write');
    const account = await this.getAccount(principal, id);
    if (account.id === principal.accountId) throw forbidden('an account cannot delete itself');
    const { children, sims } = await repo.countAccountDependents(this.db, id);
    if (children > 0 || sims > 0) {
      throw conflict('account_in_use', `account ${id} still has ${children} child accounts and ${sims} SIMs; move or delete them first`);
    }
    await this.db.transaction().execute((trx) => repo.deleteAccountCascade(trx, id));
    for (const listener of this.deletedListeners) listener(id);
  }

  /** Called after an account is deleted (e.g. to forget cached credentials of its API keys). */
  onAccountDeleted(listener: (accountId: string) => void): void {
    this.deletedListeners.push(listener);
  }
}


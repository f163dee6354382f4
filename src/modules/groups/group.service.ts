import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { conflict, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { type AccountService, requirePermission } from '../accounts/account.service.ts';
import * as repo from './group.repository.ts';
import type { Group } from './group.repository.ts';

export class GroupService {
  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
  ) {}

  async getGroup(principal: Principal, id: string): Promise<Group> {
    const group = await repo.findGroup(this.db, id, principal.accountPath);
    if (!group) throw notFound('group', id);
    return group;
  }

  listGroups(principal: Principal, filter: { accountId?: string; name?: string; after?: string; limit: number }): Promise<Group[]> {
    return repo.listGroups(this.db, principal.accountPath, filter);
  }

  async createGroup(principal: Principal, input: { accountId?: string; name: string; description?: string }): Promise<Group> {
    requirePermission(principal, 'groups:write');
    const account = await this.accounts.getAccount(principal, input.accountId ?? principal.accountId);
    try {
      return await repo.insertGroup(this.db, { id: newId('grp'), accountId: account.id, name: input.name, description: input.description ?? null });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('group_exists', `account ${account.id} already has a group named ${input.name}`);
      throw e;
    }
  }

  async updateGroup(principal: Principal, id: string, patch: { name?: string; description?: string | null }): Promise<Group> {
    requirePermission(principal, 'groups:write');
    const group = await this.getGroup(principal, id);
    try {
      return await repo.updateGroup(this.db, id, patch);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('group_exists', `account ${group.accountId} already has a group named ${patch.name}`);
      throw e;
    }
  }

  async deleteGroup(principal: Principal, id: string): Promise<void> {
    requirePermission(principal, 'groups:write');
    await this.getGroup(principal, id);
    await this.db.transaction().execute((trx) => repo.deleteGroup(trx, id));
  }
}

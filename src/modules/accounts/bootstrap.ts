import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import { newId } from '../../shared/ids.ts';
import type { AuthService } from '../auth/auth.service.ts';
import { childPath, type Principal } from './account.ts';
import * as repo from './account.repository.ts';

export interface BootstrapResult {
  created: boolean;
  operatorAccountId: string;
  adminEmail?: string;
  /** Present only when generated now: shown once, never stored in clear. */
  adminPassword?: string;
  apiKey?: string;
}

/** On first start: the operator account, its admin user and an API key. Later starts change nothing. */
export async function bootstrapOperator(
  db: Db,
  auth: AuthService,
  settings: { operatorName: string; adminEmail: string; adminPassword?: string; apiKey?: string; timezone: string },
): Promise<BootstrapResult> {
  const existing = await repo.findRootAccount(db);
  if (existing) return { created: false, operatorAccountId: existing.id };
  const id = newId('acc');
  const account = await repo.insertAccount(db, { id, parentId: null, path: childPath('/', id), kind: 'operator', name: settings.operatorName, timezone: settings.timezone });
  const password = settings.adminPassword ?? randomBytes(12).toString('base64url');
  await auth.createFirstUser(account, settings.adminEmail, password);
  const { secret } = await auth.issueApiKey(account.id, 'bootstrap', 'operator_admin', 'system:bootstrap', null, settings.apiKey);
  return {
    created: true,
    operatorAccountId: account.id,
    adminEmail: settings.adminEmail,
    adminPassword: settings.adminPassword ? undefined : password,
    apiKey: settings.apiKey ? undefined : secret,
  };
}

/** The operator account acting as the platform itself (drop folders, background work). */
export async function systemPrincipal(db: Db, actor: string): Promise<Principal> {
  const root = await repo.findRootAccount(db);
  if (!root) throw new Error('no operator account yet: start the server once to create it');
  return { accountId: root.id, accountPath: root.path, accountKind: root.kind, role: 'operator_admin', actor, source: 'api' };
}

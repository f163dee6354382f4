/** Account tree and role rules: pure, no I/O. */
export const ACCOUNT_KINDS = ['operator', 'reseller', 'enterprise'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const ROLES = ['operator_admin', 'reseller_admin', 'enterprise_admin', 'enterprise_operator', 'read_only'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that administer their account: their users are its owners, who get its notices. */
export const ADMIN_ROLES = ['operator_admin', 'reseller_admin', 'enterprise_admin'] as const satisfies readonly Role[];

export interface Account {
  id: string;
  parentId: string | null;
  path: string;
  kind: AccountKind;
  name: string;
  timezone: string;
  createdAt: Date;
}

/** Who is acting: resolved from an API key or a login session. */
export interface Principal {
  accountId: string;
  accountPath: string;
  accountKind: AccountKind;
  role: Role;
  /** `user:<id>` or `key:<id>`, recorded as the actor of changes. */
  actor: string;
  source: 'web' | 'api';
}

/** The roles a user or API key of an account of this kind may hold. */
export const ROLES_BY_KIND: Record<AccountKind, readonly Role[]> = {
  operator: ['operator_admin', 'read_only'],
  reseller: ['reseller_admin', 'read_only'],
  enterprise: ['enterprise_admin', 'enterprise_operator', 'read_only'],
};

/** The kinds of child account an account of this kind may have. */
export const CHILD_KINDS: Record<AccountKind, readonly AccountKind[]> = {
  operator: ['reseller', 'enterprise'],
  reseller: ['reseller', 'enterprise'],
  enterprise: [],
};

export type Permission =
  | 'read'
  | 'accounts:write'
  | 'users:write'
  | 'groups:write'
  | 'sims:write'
  | 'sims:import'
  | 'plans:write'
  | 'bills:write'
  | 'system:write'
  | 'alerts:write'
  | 'webhooks:write'
  | 'sms:send'
  | 'orders:write'
  | 'orders:pay'
  | 'invoices:issue';

const PERMISSIONS: Record<Role, readonly Permission[]> = {
  operator_admin: ['read', 'accounts:write', 'users:write', 'groups:write', 'sims:write', 'sims:import', 'plans:write', 'bills:write', 'system:write', 'alerts:write', 'webhooks:write', 'sms:send', 'orders:write', 'orders:pay', 'invoices:issue'],
  reseller_admin: ['read', 'accounts:write', 'users:write', 'groups:write', 'sims:write', 'sims:import', 'plans:write', 'bills:write', 'alerts:write', 'webhooks:write', 'sms:send', 'orders:write', 'orders:pay', 'invoices:issue'],
  enterprise_admin: ['read', 'users:write', 'groups:write', 'sims:write', 'alerts:write', 'webhooks:write', 'sms:send', 'orders:write'],
  enterprise_operator: ['read', 'sims:write', 'alerts:write', 'sms:send'],
  read_only: ['read'],
};

export function can(role: Role, permission: Permission): boolean {
  return PERMISSIONS[role].includes(permission);
}

/** True when `path` is the principal's own account or one of its descendants. */
export function isWithin(principal: Pick<Principal, 'accountPath'>, path: string): boolean {
  return path.startsWith(principal.accountPath);
}

/** True for the path of the root (operator) account, which sees everything. */
export const isRootPath = (path: string): boolean => path.split('/').length === 3;

export const childPath = (parentPath: string, id: string): string => `${parentPath}${id}/`;

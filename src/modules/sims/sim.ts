/** SIM domain types, identifier rules and the lifecycle state machine: pure, no I/O. */
import { isLuhnValid } from '../../shared/luhn.ts';

export const SIM_STATES = ['inventory', 'test', 'silent', 'active', 'suspended', 'deactivated', 'retired'] as const;
export type SimState = (typeof SIM_STATES)[number];

export const SUSPEND_REASONS = ['user', 'rule', 'quota', 'policy', 'expiry', 'imei_mismatch'] as const;
export type SuspendReason = (typeof SUSPEND_REASONS)[number];

/** Orders of the SIM list. */
export const SIM_SORTS = ['iccid', 'createdAt', 'updatedAt', 'stateChangedAt', 'lastSeenAt', 'usageTodayBytes', 'usageCycleBytes'] as const;
export type SimSort = (typeof SIM_SORTS)[number];

/** Data connection of a SIM as last reported by the network (Start/Alive/Stop); null when never seen. */
export const CONNECTION_STATES = ['start', 'alive', 'stop'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];
/** Values of the SIM list's connection filter: a connection state, or `none` for SIMs never seen on the network. */
export const CONNECTION_FILTERS = [...CONNECTION_STATES, 'none'] as const;
export type ConnectionFilter = (typeof CONNECTION_FILTERS)[number];

export const CHANGE_SOURCES = ['web', 'api', 'rule', 'system', 'network'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/** Allowed targets from each state (SPEC section 3). */
export const TRANSITIONS: Record<SimState, readonly SimState[]> = {
  inventory: ['test', 'silent', 'active', 'deactivated', 'retired'],
  test: ['active', 'suspended', 'deactivated'],
  silent: ['active', 'suspended', 'deactivated'],
  active: ['suspended', 'deactivated'],
  suspended: ['active', 'deactivated'],
  deactivated: ['active', 'retired'],
  retired: [],
};

export interface SimProfile {
  imsi: string;
  active: boolean;
}

export interface Sim {
  iccid: string;
  accountId: string;
  groupId: string | null;
  state: SimState;
  suspendReason: SuspendReason | null;
  imsi: string | null;
  profiles: SimProfile[];
  msisdn: string | null;
  eid: string | null;
  imei: string | null;
  batch: string | null;
  labels: string[];
  customFields: Record<string, string>;
  deviceName: string | null;
  stateDueAt: Date | null;
  activatedAt: Date | null;
  connectionState: ConnectionState | null;
  lastSeenAt: Date | null;
  /** Usage of the current local day and calendar month (account time zone); 0 when none counted yet. */
  usageTodayBytes: number;
  usageCycleBytes: number;
  /** The rate plan (套餐) the SIM is rated with; null when none is assigned. */
  planId: string | null;
  stateChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export type TransitionCheck = { ok: true } | { ok: false; code: 'illegal_transition' | 'unchanged'; message: string };

export function checkTransition(from: SimState, to: SimState): TransitionCheck {
  if (from === to) return { ok: false, code: 'unchanged', message: `SIM is already ${to}` };
  const allowed = TRANSITIONS[from];
  if (allowed.includes(to)) return { ok: true };
  return {
    ok: false,
    code: 'illegal_transition',
    message: `cannot go from ${from} to ${to}; allowed from ${from}: ${allowed.length ? allowed.join(', ') : 'none (terminal state)'}`,
  };
}

export interface LifecyclePeriods {
  testPeriodDays: number;
  silentPeriodDays: number;
  deactivatedRetireDays: number;
}

/** When the automatic transition out of `state` falls due, if it has one. */
export function stateDueAt(state: SimState, now: Date, periods: LifecyclePeriods, periodDays?: number): Date | null {
  const days =
    state === 'test' ? periods.testPeriodDays : state === 'silent' ? periods.silentPeriodDays : state === 'deactivated' ? periods.deactivatedRetireDays : null;
  if (days === null) return null;
  return new Date(now.getTime() + (periodDays ?? days) * 86_400_000);
}

/** The automatic transition taken when a state's time is up. */
export const AUTOMATIC_TRANSITIONS: Partial<Record<SimState, { to: SimState; reason: string }>> = {
  test: { to: 'active', reason: 'test period ended' },
  silent: { to: 'active', reason: 'silent period ended' },
  deactivated: { to: 'retired', reason: 'maximum deactivation time reached' },
};

// --- identifiers ---

export type IdCheck = { ok: true } | { ok: false; code: string; message: string };

export function checkIccid(iccid: string): IdCheck {
  if (!/^\d+$/.test(iccid)) return { ok: false, code: 'invalid_iccid', message: `ICCID ${iccid || '(empty)'} must contain digits only` };
  if (iccid.length < 19 || iccid.length > 20) {
    return { ok: false, code: 'invalid_iccid_length', message: `ICCID ${iccid} has ${iccid.length} digits; must have 19 or 20` };
  }
  if (!isLuhnValid(iccid)) return { ok: false, code: 'invalid_iccid_check_digit', message: `ICCID ${iccid} fails the Luhn check digit` };
  return { ok: true };
}

export function checkImsi(imsi: string): IdCheck {
  return /^\d{15}$/.test(imsi) ? { ok: true } : { ok: false, code: 'invalid_imsi', message: `IMSI ${imsi || '(empty)'} must be exactly 15 digits` };
}

export function checkMsisdn(msisdn: string): IdCheck {
  return /^\d{5,15}$/.test(msisdn)
    ? { ok: true }
    : { ok: false, code: 'invalid_msisdn', message: `MSISDN ${msisdn} must be 5 to 15 digits (E.164 without +)` };
}

export function checkEid(eid: string): IdCheck {
  return /^\d{32}$/.test(eid) ? { ok: true } : { ok: false, code: 'invalid_eid', message: `EID ${eid} must be exactly 32 digits` };
}

export function checkImei(imei: string): IdCheck {
  if (!/^\d{15}$/.test(imei)) return { ok: false, code: 'invalid_imei', message: `IMEI ${imei} must be exactly 15 digits` };
  if (!isLuhnValid(imei)) return { ok: false, code: 'invalid_imei_check_digit', message: `IMEI ${imei} fails the Luhn check digit` };
  return { ok: true };
}

/** Labels: short tokens, no separators, so they survive CSV and query strings. */
export const LABEL_PATTERN = /^[\p{L}\p{N}_.:-]{1,64}$/u;

// --- attribute updates ---

/** An update whose references (group, account) were already checked against the caller's scope. */
export interface ResolvedUpdate {
  accountId?: string;
  group?: { id: string; accountId: string } | null;
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  customFields?: Record<string, string | null>;
  deviceName?: string | null;
  imei?: string | null;
  /** The plan to rate with (checked to be visible), or null to take the SIM off its plan. */
  plan?: { id: string; accountId: string } | null;
}

/** The updatable attributes of a SIM, as stored. */
export interface SimAttributes {
  accountId: string;
  groupId: string | null;
  labels: string[];
  customFields: Record<string, string>;
  deviceName: string | null;
  imei: string | null;
  planId: string | null;
}

export type FieldChange = { field: string; oldValue: string | null; newValue: string | null };

export type UpdateOutcome =
  | { ok: true; next: SimAttributes; changes: FieldChange[] }
  | { ok: false; code: string; message: string };

const shown = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

/** Applies an update to one SIM's attributes and lists the fields it changes. */
export function applyUpdate(iccid: string, current: SimAttributes, u: ResolvedUpdate): UpdateOutcome {
  const next: SimAttributes = { ...current, labels: [...current.labels], customFields: { ...current.customFields } };
  if (u.accountId !== undefined && u.accountId !== current.accountId) {
    next.accountId = u.accountId;
    if (u.group === undefined) next.groupId = null;
  }
  if (u.group !== undefined) {
    if (u.group && u.group.accountId !== next.accountId) {
      return { ok: false, code: 'group_account_mismatch', message: `group ${u.group.id} belongs to account ${u.group.accountId}, SIM ${iccid} to ${next.accountId}` };
    }
    next.groupId = u.group?.id ?? null;
  }
  if (u.labels !== undefined) next.labels = [...new Set(u.labels)];
  if (u.addLabels) next.labels = [...new Set([...next.labels, ...u.addLabels])];
  if (u.removeLabels) next.labels = next.labels.filter((l) => !u.removeLabels!.includes(l));
  if (u.customFields) {
    for (const [k, v] of Object.entries(u.customFields)) {
      if (v === null) delete next.customFields[k];
      else next.customFields[k] = v;
    }
  }
  if (u.deviceName !== undefined) next.deviceName = u.deviceName;
  if (u.imei !== undefined) next.imei = u.imei;
  if (u.plan !== undefined) next.planId = u.plan?.id ?? null;

  const changes: FieldChange[] = [];
  const note = (field: string, before: unknown, after: unknown) => {
    if (shown(before) !== shown(after)) changes.push({ field, oldValue: shown(before), newValue: shown(after) });
  };
  note('account', current.accountId, next.accountId);
  note('group', current.groupId, next.groupId);
  note('labels', current.labels, next.labels);
  for (const k of new Set([...Object.keys(current.customFields), ...Object.keys(next.customFields)])) {
    note(`custom_fields.${k}`, current.customFields[k], next.customFields[k]);
  }
  note('device_name', current.deviceName, next.deviceName);
  note('imei', current.imei, next.imei);
  note('plan', current.planId, next.planId);
  return { ok: true, next, changes };
}

import { z } from 'zod';
import { csvList, iso, isoOrNull, Timestamp } from '../../http/schemas.ts';
import { CHANGE_STATUSES, type ChangeRecord } from '../changes/change-record.ts';
import { CHANGE_SOURCES, CONNECTION_FILTERS, CONNECTION_STATES, type Sim, SIM_SORTS, SIM_STATES, SUSPEND_REASONS } from './sim.ts';

export const SimSchema = z
  .object({
    iccid: z.string(),
    accountId: z.string(),
    groupId: z.string().nullable(),
    state: z.enum(SIM_STATES),
    suspendReason: z.enum(SUSPEND_REASONS).nullable(),
    imsi: z.string().nullable().describe('the active IMSI profile'),
    profiles: z.array(z.object({ imsi: z.string(), active: z.boolean() })),
    msisdn: z.string().nullable(),
    eid: z.string().nullable(),
    imei: z.string().nullable(),
    batch: z.string().nullable(),
    labels: z.array(z.string()),
    customFields: z.record(z.string(), z.string()),
    deviceName: z.string().nullable(),
    stateDueAt: Timestamp.nullable().describe('when the automatic transition out of this state is due'),
    activatedAt: Timestamp.nullable(),
    connectionState: z.enum(CONNECTION_STATES).nullable().describe('data connection as last reported by the network (Start/Alive/Stop); null when never seen'),
    lastSeenAt: Timestamp.nullable().describe('last time the network reported the SIM'),
    usageTodayBytes: z.number().int().describe("data used today (calendar day in the account's time zone)"),
    usageCycleBytes: z.number().int().describe("data used this billing cycle (calendar month in the account's time zone)"),
    planId: z.string().nullable().describe('the rate plan (套餐) the SIM is rated with; null when none is assigned'),
    stateChangedAt: Timestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Sim' });

export const simDto = (s: Sim) => ({
  ...s,
  stateDueAt: isoOrNull(s.stateDueAt),
  activatedAt: isoOrNull(s.activatedAt),
  lastSeenAt: isoOrNull(s.lastSeenAt),
  stateChangedAt: iso(s.stateChangedAt),
  createdAt: iso(s.createdAt),
  updatedAt: iso(s.updatedAt),
});

export const ChangeRecordSchema = z
  .object({
    id: z.number().int(),
    accountId: z.string(),
    iccid: z.string(),
    field: z.string(),
    oldValue: z.string().nullable(),
    newValue: z.string().nullable(),
    source: z.enum(CHANGE_SOURCES),
    actor: z.string().nullable(),
    reason: z.string().nullable(),
    status: z.enum(CHANGE_STATUSES),
    error: z.string().nullable(),
    jobId: z.string().nullable(),
    createdAt: Timestamp,
    completedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ChangeRecord' });

export const changeDto = (c: ChangeRecord) => ({ ...c, createdAt: iso(c.createdAt), completedAt: isoOrNull(c.completedAt) });

const digits = (min: number, max: number) => z.string().regex(new RegExp(`^\\d{${min},${max}}$`), `must be ${min === max ? min : `${min}-${max}`} digits`);

/** Filters shared by the SIM list and bulk jobs selecting by filter. */
export const SimFilterSchema = z.object({
  state: csvList(z.enum(SIM_STATES)).optional().describe('one or more states, comma-separated'),
  accountId: z.string().optional(),
  groupId: z.string().optional(),
  batch: z.string().max(64).optional(),
  label: csvList(z.string().max(64)).optional().describe('SIMs carrying all of these labels, comma-separated'),
  iccid: digits(19, 20).optional(),
  imsi: digits(15, 15).optional(),
  msisdn: digits(5, 15).optional(),
  imei: digits(15, 15).optional(),
  q: z.string().max(32).optional().describe('search: equal to the ICCID, any IMSI, the MSISDN or the IMEI'),
  connection: csvList(z.enum(CONNECTION_FILTERS)).optional().describe('connection states start, alive, stop, or none (never seen), comma-separated'),
  planId: z.string().max(64).optional().describe('SIMs on this rate plan'),
});

export const SimListQuery = SimFilterSchema.extend({
  sort: z.enum(SIM_SORTS).default('iccid'),
  order: z.enum(['asc', 'desc']).default('asc'),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
})
  .catchall(z.string().max(200))
  .describe('custom fields filter as cf.<name>=<value>');

/** Splits `cf.<name>` query parameters off into a custom-field filter. */
export function customFieldFilter(query: Record<string, unknown>): Record<string, string> | undefined {
  const entries = Object.entries(query).filter(([k]) => k.startsWith('cf.'));
  return entries.length ? Object.fromEntries(entries.map(([k, v]) => [k.slice(3), String(v)])) : undefined;
}

const labelList = z.array(z.string().max(64)).max(100);
export const SimUpdateSchema = z
  .object({
    groupId: z.string().nullable().optional(),
    labels: labelList.optional().describe('replaces all labels'),
    addLabels: labelList.optional(),
    removeLabels: labelList.optional(),
    customFields: z.record(z.string().min(1).max(64), z.string().max(500).nullable()).optional().describe('null removes a field'),
    deviceName: z.string().max(200).nullable().optional(),
    imei: z.string().nullable().optional().describe('15 digits with Luhn check digit'),
    accountId: z.string().optional().describe('move the SIM to another account (operator and reseller admins); a plan not available to the new account is taken off'),
    planId: z.string().min(1).max(64).nullable().optional().describe('rate plan to rate the SIM with, or null for none (operator and reseller admins)'),
  })
  .strict();

export const TransitionSchema = z
  .object({
    state: z.enum(SIM_STATES),
    suspendReason: z.enum(SUSPEND_REASONS).optional().describe('why, when state is suspended (default user)'),
    reason: z.string().max(500).optional(),
    periodDays: z.number().int().min(1).max(3650).optional().describe('length of a test or silent period, or of deactivation before retirement'),
    testAllowanceBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('data a SIM entering test may use before it becomes active'),
    testAllowanceSms: z.number().int().min(1).max(1_000_000).optional().describe('SMS a SIM entering test may send or receive before it becomes active (whichever of data and SMS is used up first)'),
  })
  .strict();

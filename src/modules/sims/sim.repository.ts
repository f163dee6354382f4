import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { Executor, SimTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { ConnectionFilter, ConnectionState, Sim, SimAttributes, SimProfile, SimSort, SimState, SuspendReason } from './sim.ts';

export type SimRow = Selectable<SimTable>;

/** The current local date (YYYY-MM-DD) and month (YYYY-MM) of an account's time zone. */
export interface LocalCalendar {
  day: string;
  month: string;
}

export function toSim(r: SimRow, profiles: SimProfile[], calendar?: LocalCalendar): Sim {
  return {
    iccid: r.iccid,
    accountId: r.account_id,
    groupId: r.group_id,
    state: r.state as SimState,
    suspendReason: r.suspend_reason as SuspendReason | null,
    imsi: profiles.find((p) => p.active)?.imsi ?? null,
    profiles,
    msisdn: r.msisdn,
    eid: r.eid,
    imei: r.imei,
    batch: r.batch,
    labels: r.labels,
    customFields: r.custom_fields,
    deviceName: r.device_name,
    stateDueAt: r.state_due_at,
    activatedAt: r.activated_at,
    connectionState: r.connection_state as ConnectionState | null,
    lastSeenAt: r.last_seen_at,
    usageTodayBytes: calendar && r.usage_day === calendar.day ? Number(r.usage_day_bytes) : 0,
    usageCycleBytes: calendar && r.usage_cycle === calendar.month ? Number(r.usage_cycle_bytes) : 0,
    planId: r.plan_id,
    stateChangedAt: r.state_changed_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Visibility: the SIM's account lies in the subtree at `scopePath`. The root sees everything without a join. */
export interface Scope {
  path: string;
  isRoot: boolean;
}

const scoped = (db: Executor, scope: Scope) => {
  const q = db.selectFrom('sims');
  return scope.isRoot
    ? q
    : q.where('sims.account_id', 'in', accountIdsUnder(db, scope.path));
};

export async function profilesOf(db: Executor, iccids: string[]): Promise<Map<string, SimProfile[]>> {
  const out = new Map<string, SimProfile[]>();
  if (iccids.length === 0) return out;
  const rows = await db
    .selectFrom('sim_profiles')
    .select(['iccid', 'imsi', 'active'])
    .where('iccid', '=', sql<string>`any(${iccids}::text[])`)
    .orderBy('iccid')
    .orderBy('position')
    .execute();
  for (const r of rows) {
    let list = out.get(r.iccid);
    if (!list) out.set(r.iccid, (list = []));
    list.push({ imsi: r.imsi, active: r.active });
  }
  return out;
}

/** The local date and month at `now` in the time zone of each account. */
export async function calendarsOf(db: Executor, accountIds: string[], now: Date): Promise<Map<string, LocalCalendar>> {
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('accounts')
    .select(['id', sql<string>`to_char(${now}::timestamptz AT TIME ZONE timezone, 'YYYY-MM-DD')`.as('day')])
    .where('id', '=', sql<string>`any(${ids}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.id, { day: r.day, month: r.day.slice(0, 7) }]));
}

/** Domain SIMs from rows: IMSI profiles attached, today's and this cycle's usage as of `now`. */
export async function withProfiles(db: Executor, rows: SimRow[], now: Date): Promise<Sim[]> {
  const [profiles, calendars] = await Promise.all([
    profilesOf(db, rows.map((r) => r.iccid)),
    calendarsOf(db, rows.map((r) => r.account_id), now),
  ]);
  return rows.map((r) => toSim(r, profiles.get(r.iccid) ?? [], calendars.get(r.account_id)));
}

export async function findSimRow(db: Executor, iccid: string, scope: Scope): Promise<SimRow | undefined> {
  return scoped(db, scope).selectAll().where('iccid', '=', iccid).executeTakeFirst();
}

export async function findSimRows(db: Executor, iccids: string[], scope: Scope): Promise<SimRow[]> {
  if (iccids.length === 0) return [];
  return scoped(db, scope).selectAll().where('iccid', '=', sql<string>`any(${iccids}::text[])`).execute();
}

export interface SimFilter {
  state?: SimState[];
  accountId?: string;
  groupId?: string;
  batch?: string;
  label?: string[];
  customFields?: Record<string, string>;
  iccid?: string;
  imsi?: string;
  msisdn?: string;
  imei?: string;
  /** Any of ICCID, IMSI, MSISDN or IMEI equal to this. */
  q?: string;
  /** Connection states; `none` matches SIMs never seen on the network. */
  connection?: ConnectionFilter[];
  /** SIMs on this rate plan. */
  planId?: string;
}

const SORT_COLUMN = {
  iccid: 'iccid',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  stateChangedAt: 'state_changed_at',
} as const satisfies Partial<Record<SimSort, keyof SimTable>>;

/** Usage of the current local period (day or month) of the SIM's account at `now`, 0 when the counter is of an earlier one. */
function currentUsage(period: 'day' | 'cycle', now: Date): Expression<number> {
  const [counter, bytes, format] = period === 'day' ? ['usage_day', 'usage_day_bytes', 'YYYY-MM-DD'] : ['usage_cycle', 'usage_cycle_bytes', 'YYYY-MM'];
  const local = sql`to_char(${now}::timestamptz AT TIME ZONE (SELECT a.timezone FROM accounts a WHERE a.id = sims.account_id), ${format})`;
  return sql<number>`(CASE WHEN ${sql.ref(`sims.${counter}`)} = ${local} THEN ${sql.ref(`sims.${bytes}`)} ELSE 0 END)`;
}

function filtered(db: Executor, scope: Scope, f: SimFilter) {
  let q = scoped(db, scope);
  if (f.state?.length) q = q.where('state', '=', sql<string>`any(${f.state}::text[])`);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.groupId) q = q.where('group_id', '=', f.groupId);
  if (f.batch) q = q.where('batch', '=', f.batch);
  if (f.planId) q = q.where('plan_id', '=', f.planId);
  if (f.label?.length) q = q.where(sql<SqlBool>`labels @> ${f.label}::text[]`);
  if (f.customFields && Object.keys(f.customFields).length) {
    q = q.where(sql<SqlBool>`custom_fields @> ${JSON.stringify(f.customFields)}::jsonb`);
  }
  if (f.connection?.length) {
    const states = f.connection.filter((c) => c !== 'none');
    const none = f.connection.includes('none');
    q = q.where((eb) =>
      eb.or([
        ...(states.length ? [eb('connection_state', '=', sql<string>`any(${states}::text[])`)] : []),
        ...(none ? [eb('connection_state', 'is', null)] : []),
      ]),
    );
  }
  if (f.iccid) q = q.where('iccid', '=', f.iccid);
  if (f.msisdn) q = q.where('msisdn', '=', f.msisdn);
  if (f.imei) q = q.where('imei', '=', f.imei);
  if (f.imsi) q = q.where('iccid', 'in', db.selectFrom('sim_profiles').select('iccid').where('imsi', '=', f.imsi));
  if (f.q) {
    const term = f.q;
    q = q.where((eb) =>
      eb.or([
        eb('iccid', '=', term),
        eb('msisdn', '=', term),
        eb('imei', '=', term),
        eb('iccid', 'in', db.selectFrom('sim_profiles').select('iccid').where('imsi', '=', term)),
      ]),
    );
  }
  return q;
}

export interface Page {
  sort: SimSort;
  order: 'asc' | 'desc';
  limit: number;
  /** Keyset position: the sort value (null for a SIM never seen, sorting by lastSeenAt) and ICCID of the last row of the previous page. */
  after?: { value: string | null; iccid: string };
  /** The time the current day and month of `usageTodayBytes` / `usageCycleBytes` sorts are taken at (default: the system clock). */
  now?: Date;
}

export async function listSimRows(db: Executor, scope: Scope, f: SimFilter, page: Page): Promise<SimRow[]> {
  if (page.sort === 'lastSeenAt' || page.sort === 'usageTodayBytes' || page.sort === 'usageCycleBytes') return listSimRowsByNetworkColumn(db, scope, f, page);
  const col = SORT_COLUMN[page.sort];
  let q = filtered(db, scope, f).selectAll();
  if (page.after) {
    const { value, iccid } = page.after;
    const cmp = page.order === 'asc' ? '>' : '<';
    const key: Expression<unknown> =
      col === 'iccid' ? sql`${sql.ref('iccid')}` : sql`(${sql.ref(col)}, ${sql.ref('iccid')})`;
    const pos: Expression<unknown> = col === 'iccid' ? sql`${iccid}` : sql`(${value}::timestamptz, ${iccid})`;
    q = q.where(sql<SqlBool>`${key} ${sql.raw(cmp)} ${pos}`);
  }
  if (col !== 'iccid') q = q.orderBy(col, page.order);
  return q.orderBy('iccid', page.order).limit(page.limit).execute();
}

/**
 * Lists sorted by a network-written column. lastSeenAt puts SIMs never seen last in both orders; the usage sorts
 * order by the usage of the current day or month (0 when the counter is of an earlier period). Ties go by ICCID.
 */
async function listSimRowsByNetworkColumn(db: Executor, scope: Scope, f: SimFilter, page: Page): Promise<SimRow[]> {
  const dir = sql.raw(page.order);
  const cmp = sql.raw(page.order === 'asc' ? '>' : '<');
  let q = filtered(db, scope, f).selectAll();
  if (page.sort === 'lastSeenAt') {
    if (page.after) {
      const { value, iccid } = page.after;
      // NOTE: NULLS LAST in both directions: after a non-null position come the greater/lesser values, then every null.
      q = q.where(
        value === null
          ? sql<SqlBool>`sims.last_seen_at IS NULL AND sims.iccid ${cmp} ${iccid}`
          : sql<SqlBool>`((sims.last_seen_at, sims.iccid) ${cmp} (${value}::timestamptz, ${iccid}) OR sims.last_seen_at IS NULL)`,
      );
    }
    return q.orderBy(sql`sims.last_seen_at ${dir} NULLS LAST`).orderBy('iccid', page.order).limit(page.limit).execute();
  }
  const usage = currentUsage(page.sort === 'usageTodayBytes' ? 'day' : 'cycle', page.now ?? new Date());
  if (page.after) q = q.where(sql<SqlBool>`(${usage}, sims.iccid) ${cmp} (${page.after.value}::bigint, ${page.after.iccid})`);
  return q.orderBy(sql`${usage} ${dir}`).orderBy('iccid', page.order).limit(page.limit).execute();
}

export async function countSims(db: Executor, scope: Scope, f: SimFilter): Promise<number> {
  const row = await filtered(db, scope, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every ICCID matching a filter (bulk jobs snapshot their selection with this). */
export async function listIccids(db: Executor, scope: Scope, f: SimFilter): Promise<string[]> {
  const rows = await filtered(db, scope, f).select('iccid').orderBy('iccid').execute();
  return rows.map((r) => r.iccid);
}

export const attributesOf = (r: SimRow): SimAttributes => ({
  accountId: r.account_id,
  groupId: r.group_id,
  labels: r.labels,
  customFields: r.custom_fields,
  deviceName: r.device_name,
  imei: r.imei,
  planId: r.plan_id,
});

/** Writes new attributes for many SIMs in one statement. */
export async function updateSimAttributes(db: Executor, updates: { iccid: string; next: SimAttributes }[], now: Date): Promise<void> {
  if (updates.length === 0) return;
  const col = <T>(f: (u: (typeof updates)[number]) => T) => updates.map(f);
  // NOTE: labels travel as one '|'-joined string per SIM (labels cannot contain '|'); unnest cannot take a ragged text[][].
  await sql`
    UPDATE sims SET
      account_id = u.account_id, group_id = u.group_id,
      labels = CASE WHEN u.labels = '' THEN '{}'::text[] ELSE string_to_array(u.labels, '|') END,
      custom_fields = u.custom_fields::jsonb, device_name = u.device_name, imei = u.imei, plan_id = u.plan_id, updated_at = ${now},
      plan_joined_at = CASE WHEN sims.plan_id IS DISTINCT FROM u.plan_id OR sims.account_id <> u.account_id THEN ${now}::timestamptz ELSE sims.plan_joined_at END
    FROM unnest(${col((u) => u.iccid)}::text[], ${col((u) => u.next.accountId)}::text[], ${col((u) => u.next.groupId)}::text[],
                ${col((u) => u.next.labels.join('|'))}::text[], ${col((u) => JSON.stringify(u.next.customFields))}::text[],
                ${col((u) => u.next.deviceName)}::text[], ${col((u) => u.next.imei)}::text[], ${col((u) => u.next.planId)}::text[])
      AS u(iccid, account_id, group_id, labels, custom_fields, device_name, imei, plan_id)
    WHERE sims.iccid = u.iccid`.execute(db);
}

/** Moves SIMs to `to` where they are still in the state they were read in; returns the ICCIDs moved. */
export async function applyStateChange(
  db: Executor,
  changes: { iccid: string; from: SimState }[],
  to: { state: SimState; suspendReason: SuspendReason | null; dueAt: Date | null; testAllowanceBytes: number | null; testAllowanceSms?: number | null; now: Date },
): Promise<Set<string>> {
  if (changes.length === 0) return new Set();
  const iccids = changes.map((c) => c.iccid);
  const froms = changes.map((c) => c.from);
  const rows = await sql<{ iccid: string }>`
    UPDATE sims SET
      state = ${to.state},
      suspend_reason = ${to.suspendReason},
      state_due_at = ${to.dueAt},
      activated_at = CASE WHEN ${to.state} = 'active' THEN coalesce(activated_at, ${to.now}) ELSE activated_at END,
      test_allowance_bytes = CASE WHEN ${to.state} = 'test' THEN ${to.testAllowanceBytes}::bigint ELSE test_allowance_bytes END,
      test_used_bytes = CASE WHEN ${to.state} = 'test' THEN 0 ELSE test_used_bytes END,
      test_allowance_sms = CASE WHEN ${to.state} = 'test' THEN ${to.testAllowanceSms ?? null}::int ELSE test_allowance_sms END,
      test_used_sms = CASE WHEN ${to.state} = 'test' THEN 0 ELSE test_used_sms END,
      state_changed_at = ${to.now},
      updated_at = ${to.now}
    FROM unnest(${iccids}::text[], ${froms}::text[]) AS u(iccid, from_state)
    WHERE sims.iccid = u.iccid AND sims.state = u.from_state
    RETURNING sims.iccid`.execute(db);
  return new Set(rows.rows.map((r) => r.iccid));
}

/** SIMs whose automatic transition is due, oldest first. */
export async function findDueSims(db: Executor, now: Date, states: SimState[], limit: number): Promise<SimRow[]> {
  return db
    .selectFrom('sims')
    .selectAll()
    .where('state_due_at', '<=', now)
    .where('state', '=', sql<string>`any(${states}::text[])`)
    .orderBy('state_due_at')
    .limit(limit)
    .execute();
}

/** Moves the due time of SIMs whose automatic transition failed. */
export async function postponeDue(db: Executor, iccids: string[], state: SimState, until: Date): Promise<void> {
  if (iccids.length === 0) return;
  // NOTE: only SIMs still in the state whose transition failed: one that moved on keeps its new state's timer.
  await db
    .updateTable('sims')
    .set({ state_due_at: until })
    .where('iccid', '=', sql<string>`any(${iccids}::text[])`)
    .where('state', '=', state)
    .execute();
}

export async function deleteSim(db: Executor, iccid: string): Promise<void> {
  await db.deleteFrom('sims').where('iccid', '=', iccid).execute();
}

/** ICCID, IMSIs, MSISDN and IMEI for each of a list of identifiers of one kind. */
export async function lookupIdentifiers(
  db: Executor,
  scope: Scope,
  by: 'iccid' | 'imsi' | 'msisdn' | 'imei',
  values: string[],
): Promise<SimRow[]> {
  const list = sql<string>`any(${values}::text[])`;
  const base = scoped(db, scope).selectAll();
  if (by === 'imsi') return base.where('iccid', 'in', db.selectFrom('sim_profiles').select('iccid').where('imsi', '=', list)).execute();
  return base.where(by, '=', list).execute();
}

/** The materialised path of each account. */
export async function accountPathsOf(db: Executor, accountIds: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'path']).where('id', '=', sql<string>`any(${ids}::text[])`).execute();
  return new Map(rows.map((r) => [r.id, r.path]));
}

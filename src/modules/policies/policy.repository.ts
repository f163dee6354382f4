import { type Selectable, sql } from 'kysely';
import type { CommPlanTable, Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { CommPlan, CommPlanInput, ImeiLock, ImeiLockMode, RegionMode, ViolationKind } from './policy.ts';

const toPlan = (r: Selectable<CommPlanTable>): CommPlan => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  services: { data: r.data_enabled, voice: r.voice_enabled, sms: r.sms_enabled },
  apns: r.apns,
  destinations: r.destinations,
  smsWhitelist: r.sms_whitelist,
  imeiLock: { mode: r.imei_lock as ImeiLockMode, maxDevices: r.imei_lock_max_devices },
  region: { mode: r.region_mode as RegionMode, countries: r.region_countries, zones: r.region_zones, operators: r.region_operators },
  dailyDataLimitBytes: r.daily_data_limit_bytes === null ? null : Number(r.daily_data_limit_bytes),
  abnormalDailyBytes: Number(r.abnormal_daily_bytes),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const columnsOf = (p: CommPlanInput) => ({
  name: p.name,
  data_enabled: p.services.data,
  voice_enabled: p.services.voice,
  sms_enabled: p.services.sms,
  apns: p.apns,
  destinations: p.destinations,
  sms_whitelist: p.smsWhitelist,
  imei_lock: p.imeiLock.mode,
  imei_lock_max_devices: p.imeiLock.maxDevices,
  region_mode: p.region.mode,
  region_countries: p.region.countries,
  region_zones: p.region.zones,
  region_operators: p.region.operators,
  daily_data_limit_bytes: p.dailyDataLimitBytes,
  abnormal_daily_bytes: p.abnormalDailyBytes,
});

export async function insertCommPlan(db: Executor, p: CommPlanInput & { id: string; accountId: string }, at: Date): Promise<CommPlan> {
  const row = await db
    .insertInto('comm_plans')
    .values({ id: p.id, account_id: p.accountId, ...columnsOf(p), created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPlan(row);
}

export async function updateCommPlan(db: Executor, id: string, p: CommPlanInput, at: Date): Promise<CommPlan> {
  return toPlan(await db.updateTable('comm_plans').set({ ...columnsOf(p), updated_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow());
}

/** A plan within the scope of the account at `scopePath`. */
export async function findCommPlan(db: Executor, id: string, scopePath: string): Promise<CommPlan | undefined> {
  const row = await db.selectFrom('comm_plans').selectAll().where('id', '=', id).where('account_id', 'in', accountIdsUnder(db, scopePath)).executeTakeFirst();
  return row && toPlan(row);
}

export async function listCommPlans(db: Executor, scopePath: string, filter: { accountId?: string; after?: string; limit: number }): Promise<CommPlan[]> {
  let q = db.selectFrom('comm_plans').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.after) q = q.where('id', '>', filter.after);
  return (await q.orderBy('id').limit(filter.limit).execute()).map(toPlan);
}

/** Every plan, for the engine. */
export async function loadCommPlans(db: Executor): Promise<CommPlan[]> {
  return (await db.selectFrom('comm_plans').selectAll().execute()).map(toPlan);
}

/** How many SIMs and groups a plan is assigned to. */
export async function commPlanUse(db: Executor, id: string): Promise<{ sims: number; groups: number }> {
  const [sims, groups] = await Promise.all([
    db.selectFrom('sims').select((e) => e.fn.countAll<string>().as('n')).where('comm_plan_id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('groups').select((e) => e.fn.countAll<string>().as('n')).where('comm_plan_id', '=', id).executeTakeFirstOrThrow(),
  ]);
  return { sims: Number(sims.n), groups: Number(groups.n) };
}

export async function deleteCommPlan(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('comm_plans').where('id', '=', id).execute();
}

export async function setSimCommPlan(db: Executor, iccid: string, planId: string | null, at: Date): Promise<void> {
  await db.updateTable('sims').set({ comm_plan_id: planId, updated_at: at }).where('iccid', '=', iccid).execute();
}

export async function setSimImeiLock(db: Executor, iccid: string, lock: ImeiLock | null, at: Date): Promise<void> {
  await db
    .updateTable('sims')
    .set({ imei_lock: lock?.mode ?? null, imei_lock_max_devices: lock?.maxDevices ?? null, updated_at: at })
    .where('iccid', '=', iccid)
    .execute();
}

export async function setGroupCommPlan(db: Executor, groupId: string, planId: string | null): Promise<void> {
  await db.updateTable('groups').set({ comm_plan_id: planId }).where('id', '=', groupId).execute();
}

/** Group id -> communication plan id, for the groups that have one. */
export async function loadGroupPlans(db: Executor): Promise<Map<string, string>> {
  const rows = await db.selectFrom('groups').select(['id', 'comm_plan_id']).where('comm_plan_id', 'is not', null).execute();
  return new Map(rows.map((r) => [r.id, r.comm_plan_id!]));
}

/** What the engine holds per SIM about its policies. */
export interface SimPolicyRow {
  iccid: string;
  accountId: string;
  groupId: string | null;
  commPlanId: string | null;
  imei: string | null;
  imeiLock: ImeiLock | null;
  boundCountry: string | null;
  devices: string[];
}

/**
 * The policy state of SIMs: the given ones, or (no list) every SIM that has anything a policy reads (a group, a
 * plan, a bound IMEI, an own lock or a bound country); SIMs without any are under the default policy.
 */
export async function loadSimPolicyRows(db: Executor, iccids?: readonly string[]): Promise<SimPolicyRow[]> {
  if (iccids && iccids.length === 0) return [];
  const { rows } = await sql<{
    iccid: string;
    account_id: string;
    group_id: string | null;
    comm_plan_id: string | null;
    imei: string | null;
    imei_lock: string | null;
    imei_lock_max_devices: number | null;
    bound_country: string | null;
    devices: string[];
  }>`
    SELECT s.iccid, s.account_id, s.group_id, s.comm_plan_id, s.imei, s.imei_lock, s.imei_lock_max_devices, s.bound_country,
           coalesce((SELECT array_agg(d.imei ORDER BY d.first_seen_at, d.imei) FROM sim_devices d WHERE d.iccid = s.iccid), '{}') AS devices
    FROM sims s
    WHERE ${
      iccids
        ? sql`s.iccid IN (${sql.join(iccids)})`
        : sql`(s.group_id IS NOT NULL OR s.comm_plan_id IS NOT NULL OR s.imei IS NOT NULL OR s.imei_lock IS NOT NULL OR s.bound_country IS NOT NULL)`
    }`.execute(db);
  return rows.map((r) => ({
    iccid: r.iccid,
    accountId: r.account_id,
    groupId: r.group_id,
    commPlanId: r.comm_plan_id,
    imei: r.imei,
    imeiLock: r.imei_lock ? { mode: r.imei_lock as ImeiLockMode, maxDevices: r.imei_lock_max_devices ?? 10 } : null,
    boundCountry: r.bound_country,
    devices: r.devices,
  }));
}

/** Binds a SIM to its first device (only while it has none bound) and records the device. */
export async function bindImei(db: Executor, s: { iccid: string; accountId: string; imei: string }, at: Date): Promise<boolean> {
  const bound = await db.updateTable('sims').set({ imei: s.imei, updated_at: at }).where('iccid', '=', s.iccid).where('imei', 'is', null).executeTakeFirst();
  await addDevice(db, s, at);
  return Number(bound.numUpdatedRows) > 0;
}

export async function addDevice(db: Executor, s: { iccid: string; accountId: string; imei: string }, at: Date): Promise<void> {
  await db.insertInto('sim_devices').values({ iccid: s.iccid, imei: s.imei, account_id: s.accountId, first_seen_at: at }).onConflict((oc) => oc.doNothing()).execute();
}

/** Unbinds a SIM from its device(s): the next device seen becomes the bound one. Returns the IMEI that was bound. */
export async function resetImei(db: Executor, iccid: string, at: Date): Promise<void> {
  await db.updateTable('sims').set({ imei: null, updated_at: at }).where('iccid', '=', iccid).execute();
  await db.deleteFrom('sim_devices').where('iccid', '=', iccid).execute();
}

export async function devicesOf(db: Executor, iccid: string): Promise<{ imei: string; firstSeenAt: Date }[]> {
  const rows = await db.selectFrom('sim_devices').select(['imei', 'first_seen_at']).where('iccid', '=', iccid).orderBy('first_seen_at').orderBy('imei').execute();
  return rows.map((r) => ({ imei: r.imei, firstSeenAt: r.first_seen_at }));
}

export async function bindCountry(db: Executor, iccid: string, country: string, at: Date): Promise<void> {
  await db.updateTable('sims').set({ bound_country: country, updated_at: at }).where('iccid', '=', iccid).where('bound_country', 'is', null).execute();
}

// --- operator lists ---

export interface ListedEntry {
  code: string;
  kind: string;
  reason: string | null;
  createdBy: string | null;
  createdAt: Date;
}

export async function addBlacklisted(db: Executor, e: { imei: string; reason: string | null; createdBy: string }, at: Date): Promise<void> {
  await db
    .insertInto('imei_blacklist')
    .values({ imei: e.imei, reason: e.reason, created_by: e.createdBy, created_at: at })
    .onConflict((oc) => oc.column('imei').doUpdateSet({ reason: e.reason }))
    .execute();
}

export async function removeBlacklisted(db: Executor, imei: string): Promise<boolean> {
  return Number((await db.deleteFrom('imei_blacklist').where('imei', '=', imei).executeTakeFirst()).numDeletedRows) > 0;
}

export async function listBlacklist(db: Executor, page: { after?: string; limit: number }): Promise<ListedEntry[]> {
  let q = db.selectFrom('imei_blacklist').selectAll();
  if (page.after) q = q.where('imei', '>', page.after);
  const rows = await q.orderBy('imei').limit(page.limit).execute();
  return rows.map((r) => ({ code: r.imei, kind: 'imei', reason: r.reason, createdBy: r.created_by, createdAt: r.created_at }));
}

export async function loadBlacklist(db: Executor): Promise<string[]> {
  return (await db.selectFrom('imei_blacklist').select('imei').execute()).map((r) => r.imei);
}

export async function addHighRiskArea(db: Executor, e: { code: string; kind: string; reason: string | null; createdBy: string }, at: Date): Promise<void> {
  await db
    .insertInto('high_risk_areas')
    .values({ code: e.code, kind: e.kind, reason: e.reason, created_by: e.createdBy, created_at: at })
    .onConflict((oc) => oc.column('code').doUpdateSet({ reason: e.reason }))
    .execute();
}

export async function removeHighRiskArea(db: Executor, code: string): Promise<boolean> {
  return Number((await db.deleteFrom('high_risk_areas').where('code', '=', code).executeTakeFirst()).numDeletedRows) > 0;
}

export async function listHighRiskAreas(db: Executor): Promise<ListedEntry[]> {
  const rows = await db.selectFrom('high_risk_areas').selectAll().orderBy('code').execute();
  return rows.map((r) => ({ code: r.code, kind: r.kind, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at }));
}

export async function loadHighRiskCodes(db: Executor): Promise<string[]> {
  return (await db.selectFrom('high_risk_areas').select('code').execute()).map((r) => r.code);
}

// --- violations ---

export interface NewViolation {
  accountId: string;
  iccid: string;
  kind: ViolationKind;
  message: string;
  data: Record<string, unknown>;
  dedupeKey: string;
  occurredAt: Date;
}

export interface Violation extends Omit<NewViolation, 'dedupeKey'> {
  id: number;
}

/** Records violations; one with a key recorded before is skipped. Returns those recorded now. */
export async function insertViolations(db: Executor, list: NewViolation[]): Promise<NewViolation[]> {
  if (list.length === 0) return [];
  const rows = await db
    .insertInto('policy_violations')
    .values(list.map((v) => ({ account_id: v.accountId, iccid: v.iccid, kind: v.kind, message: v.message, data: JSON.stringify(v.data), dedupe_key: v.dedupeKey, occurred_at: v.occurredAt })))
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('dedupe_key')
    .execute();
  const recorded = new Set(rows.map((r) => r.dedupe_key));
  return list.filter((v) => recorded.has(v.dedupeKey));
}

export async function listViolations(
  db: Executor,
  scopePath: string,
  filter: { iccid?: string; kind?: string; beforeId?: number; limit: number },
): Promise<Violation[]> {
  let q = db.selectFrom('policy_violations').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));
  if (filter.iccid) q = q.where('iccid', '=', filter.iccid);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.beforeId) q = q.where('id', '<', filter.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    accountId: r.account_id,
    iccid: r.iccid,
    kind: r.kind as ViolationKind,
    message: r.message,
    data: r.data,
    occurredAt: r.occurred_at,
  }));
}

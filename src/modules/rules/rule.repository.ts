import { type Selectable, sql } from 'kysely';
import type { Db, Executor, RuleFiringTable, RuleTable } from '../../db/database.ts';
import { accountIdsUnder, likePrefix } from '../../db/scope.ts';
import type { HistorySim } from './backtest.ts';
import type { Rule, RuleAction, RuleDefinition, Subject } from './rule.ts';

/** The result of one action of a firing. */
export interface ActionResult {
  type: RuleAction['type'];
  status: 'pending' | 'ok' | 'failed' | 'skipped' | 'simulated';
  detail: string | null;
}

export interface RuleFiring {
  id: number;
  ruleId: string;
  accountId: string;
  subject: Subject;
  subjectAccountId: string;
  iccid: string | null;
  period: string;
  stage: string;
  inputs: Record<string, unknown>;
  status: 'pending' | 'done';
  actions: ActionResult[];
  firedAt: Date;
  completedAt: Date | null;
}

/** A firing to record: pending, its id given by the database. */
export type NewFiring = Omit<RuleFiring, 'id' | 'status' | 'completedAt'>;

type RuleRow = Selectable<RuleTable>;

const toRule = (r: RuleRow): Rule => {
  const d = r.definition as Omit<RuleDefinition, 'name' | 'enabled'>;
  return { ...d, id: r.id, accountId: r.account_id, name: r.name, enabled: r.enabled, templateId: r.template_id, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at };
};

const definitionOf = (d: RuleDefinition) => {
  const { name: _name, enabled: _enabled, ...rest } = d;
  return JSON.stringify(rest);
};

export async function insertRule(db: Executor, r: Omit<Rule, 'createdAt' | 'updatedAt'>, now: Date): Promise<Rule> {
  const row = await db
    .insertInto('rules')
    .values({ id: r.id, account_id: r.accountId, name: r.name, enabled: r.enabled, definition: definitionOf(r), template_id: r.templateId, created_by: r.createdBy, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRule(row);
}

export async function updateRule(db: Executor, id: string, d: RuleDefinition, now: Date): Promise<Rule | undefined> {
  const row = await db.updateTable('rules').set({ name: d.name, enabled: d.enabled, definition: definitionOf(d), updated_at: now }).where('id', '=', id).returningAll().executeTakeFirst();
  return row && toRule(row);
}

export async function deleteRule(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('rules').where('id', '=', id).execute();
}

/** One rule within the accounts under `path`. */
export async function findRule(db: Executor, id: string, path: string): Promise<Rule | undefined> {
  const row = await db.selectFrom('rules').selectAll().where('id', '=', id).where('account_id', 'in', accountIdsUnder(db, path)).executeTakeFirst();
  return row && toRule(row);
}

export async function listRules(db: Executor, path: string, page: { after?: string; limit: number; enabled?: boolean }): Promise<Rule[]> {
  let q = db.selectFrom('rules').selectAll().where('account_id', 'in', accountIdsUnder(db, path));
  if (page.after) q = q.where('id', '>', page.after);
  if (page.enabled !== undefined) q = q.where('enabled', '=', page.enabled);
  return (await q.orderBy('id').limit(page.limit).execute()).map(toRule);
}

/** Every enabled rule (the engine compiles them). */
export async function loadEnabledRules(db: Db): Promise<Rule[]> {
  return (await db.selectFrom('rules').selectAll().where('enabled', '=', true).orderBy('id').execute()).map(toRule);
}

export async function accountPaths(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('accounts').select(['id', 'path']).execute();
  return new Map(rows.map((r) => [r.id, r.path]));
}

/**
 * Records firings; one that exists already (same rule, subject, period and stage) is skipped. Returns the new ones
 * with their ids. A firing given with `completedAt` was acted on in the recording transaction: it is recorded done,
 * with the action results it carries.
 * The firings go as one JSON document and only the new rows' ids and keys come back: a burst of threshold crossings
 * records thousands at once, and a multi-row VALUES list with a parameter per cell cost more to build and send.
 */
export async function insertFirings(db: Executor, firings: (NewFiring & { completedAt?: Date })[]): Promise<RuleFiring[]> {
  if (firings.length === 0) return [];
  const doc = JSON.stringify(
    firings.map((f) => ({
      status: f.completedAt ? 'done' : 'pending',
      completed_at: f.completedAt?.getTime() ?? null,
      rule_id: f.ruleId,
      account_id: f.accountId,
      subject_kind: f.subject.kind,
      subject_id: f.subject.id,
      subject_account_id: f.subjectAccountId,
      iccid: f.iccid,
      period: f.period,
      stage: f.stage,
      inputs: f.inputs,
      actions: f.actions,
      fired_at: f.firedAt.getTime(),
    })),
  );
  const { rows } = await sql<{ id: string | number; rule_id: string; subject_id: string; period: string; stage: string }>`
    INSERT INTO rule_firings (status, completed_at, rule_id, account_id, subject_kind, subject_id, subject_account_id, iccid, period, stage, inputs, actions, fired_at)
    SELECT f.status, to_timestamp(f.completed_at / 1000), f.rule_id, f.account_id,
      f.subject_kind, f.subject_id, f.subject_account_id, f.iccid, f.period, f.stage, f.inputs, f.actions, to_timestamp(f.fired_at / 1000)
    FROM json_to_recordset(${doc}::json) AS f(status text, completed_at float8, rule_id text, account_id text, subject_kind text,
      subject_id text, subject_account_id text, iccid text, period text, stage text, inputs jsonb, actions jsonb, fired_at float8)
    ON CONFLICT (rule_id, subject_id, period, stage) DO NOTHING
    RETURNING id, rule_id, subject_id, period, stage`.execute(db);
  const byKey = new Map<string, (typeof firings)[number]>();
  for (const f of firings) {
    const key = firingKey(f.ruleId, f.subject.id, f.period, f.stage);
    if (!byKey.has(key)) byKey.set(key, f);
  }
  return rows.map((r) => {
    const f = byKey.get(firingKey(r.rule_id, r.subject_id, r.period, r.stage))!;
    return { ...f, id: Number(r.id), status: f.completedAt ? 'done' : 'pending', completedAt: f.completedAt ?? null };
  });
}

const firingKey = (ruleId: string, subjectId: string, period: string, stage: string): string => `${ruleId}\n${subjectId}\n${period}\n${stage}`;

type FiringRow = Selectable<RuleFiringTable>;

const toFiring = (r: FiringRow): RuleFiring => ({
  id: Number(r.id),
  ruleId: r.rule_id,
  accountId: r.account_id,
  subject: { kind: r.subject_kind as Subject['kind'], id: r.subject_id },
  subjectAccountId: r.subject_account_id,
  iccid: r.iccid,
  period: r.period,
  stage: r.stage,
  inputs: r.inputs,
  status: r.status as RuleFiring['status'],
  actions: r.actions as unknown as ActionResult[],
  firedAt: r.fired_at,
  completedAt: r.completed_at,
});

/** Pending firings, oldest first (the action queue). */
export async function pendingFirings(db: Db, limit: number): Promise<RuleFiring[]> {
  return (await db.selectFrom('rule_firings').selectAll().where('status', '=', 'pending').orderBy('id').limit(limit).execute()).map(toFiring);
}

/** Marks firings done with the results of their actions, in one statement. */
export async function completeFirings(db: Executor, done: { id: number; actions: ActionResult[] }[], at: Date): Promise<void> {
  if (done.length === 0) return;
  await sql`
    UPDATE rule_firings f SET status = 'done', actions = c.actions, completed_at = ${at}
    FROM json_to_recordset(${JSON.stringify(done)}::json) AS c(id bigint, actions jsonb)
    WHERE f.id = c.id`.execute(db);
}

export interface FiringFilter {
  ruleId?: string;
  iccid?: string;
  subjectId?: string;
  from?: Date;
  to?: Date;
  status?: 'pending' | 'done';
}

/** Firings of the rules of the accounts under `path`, newest first. */
export async function listFirings(db: Executor, path: string, filter: FiringFilter, page: { before?: number; limit: number }): Promise<RuleFiring[]> {
  let q = db.selectFrom('rule_firings').selectAll().where('account_id', 'in', accountIdsUnder(db, path));
  if (filter.ruleId) q = q.where('rule_id', '=', filter.ruleId);
  if (filter.iccid) q = q.where('iccid', '=', filter.iccid);
  if (filter.subjectId) q = q.where('subject_id', '=', filter.subjectId);
  if (filter.from) q = q.where('fired_at', '>=', filter.from);
  if (filter.to) q = q.where('fired_at', '<', filter.to);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (page.before) q = q.where('id', '<', page.before);
  return (await q.orderBy('id', 'desc').limit(page.limit).execute()).map(toFiring);
}

/** Keys (rule, subject, period, stage) and times of firings since `since`, to rebuild the memory of what fired. */
export async function recentFirings(db: Db, since: Date): Promise<{ ruleId: string; subjectId: string; period: string; stage: string; firedAt: Date }[]> {
  const rows = await db.selectFrom('rule_firings').select(['rule_id', 'subject_id', 'period', 'stage', 'fired_at']).where('fired_at', '>=', since).execute();
  return rows.map((r) => ({ ruleId: r.rule_id, subjectId: r.subject_id, period: r.period, stage: r.stage, firedAt: r.fired_at }));
}

/** Group, labels and custom fields of SIMs (all of the given accounts, or the given ICCIDs). */
export async function simAttributes(
  db: Db,
  which: { accountIds: string[] } | { iccids: string[] },
): Promise<{ iccid: string; groupId: string | null; labels: string[]; customFields: Record<string, string> }[]> {
  const list = 'iccids' in which ? which.iccids : which.accountIds;
  if (list.length === 0) return [];
  const rows = await db
    .selectFrom('sims')
    .select(['iccid', 'group_id', 'labels', 'custom_fields'])
    .where('iccids' in which ? 'iccid' : 'account_id', 'in', list)
    .execute();
  return rows.map((r) => ({ iccid: r.iccid, groupId: r.group_id, labels: r.labels, customFields: r.custom_fields }));
}

export interface DueSim extends HistorySim {
  /** The moment the trigger looks at: last seen (offline), test end, expiry. */
  at: Date;
}

/**
 * SIMs of the accounts under `path` for a time-based trigger: offline since before `before` (and after `since`),
 * in test with the period ending before `before`, or expiring before `before`.
 */
export async function dueSims(db: Db, path: string, kind: 'offline' | 'test_period_ending' | 'expiry', since: Date, before: Date, limit: number): Promise<DueSim[]> {
  const cond =
    kind === 'offline'
      ? sql`s.connection_state = 'stop' AND s.last_seen_at < ${before} AND s.last_seen_at >= ${since}`
      : kind === 'test_period_ending'
        ? sql`s.state = 'test' AND s.state_due_at IS NOT NULL AND s.state_due_at < ${before} AND s.state_due_at >= ${since}`
        : sql`s.expires_at IS NOT NULL AND s.expires_at < ${before} AND s.expires_at >= ${since} AND s.state NOT IN ('retired', 'inventory')`;
  const at = kind === 'offline' ? sql`s.last_seen_at` : kind === 'test_period_ending' ? sql`s.state_due_at` : sql`s.expires_at`;
  const { rows } = await sql<{ iccid: string; account_id: string; timezone: string; state: string; plan_id: string | null; group_id: string | null; labels: string[]; custom_fields: Record<string, string>; at: Date }>`
    SELECT s.iccid, s.account_id, a.timezone, s.state, s.plan_id, s.group_id, s.labels, s.custom_fields, ${at} AS at
    FROM sims s JOIN accounts a ON a.id = s.account_id
    WHERE a.path LIKE ${likePrefix(path)} AND ${cond}
    ORDER BY s.iccid LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({
    iccid: r.iccid,
    accountId: r.account_id,
    timezone: r.timezone,
    state: r.state,
    planId: r.plan_id,
    groupId: r.group_id,
    labels: r.labels,
    customFields: r.custom_fields,
    at: new Date(r.at),
  }));
}

/** SIMs a rule reaches: under `path`, narrowed by its scope (group, plan or one SIM); at most `limit`. */
export async function simsInReach(db: Db, path: string, scope: RuleDefinition['scope'], limit: number) {
  let q = db
    .selectFrom('sims as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select(['s.iccid', 's.account_id', 'a.timezone', 's.state', 's.plan_id', 's.group_id', 's.labels', 's.custom_fields'])
    .where('a.path', 'like', likePrefix(path));
  if (scope.kind === 'group') q = q.where('s.group_id', '=', scope.id);
  if (scope.kind === 'plan') q = q.where('s.plan_id', '=', scope.id);
  if (scope.kind === 'sim') q = q.where('s.iccid', '=', scope.iccid);
  const rows = await q.orderBy('s.iccid').limit(limit).execute();
  return rows.map((r) => ({ iccid: r.iccid, accountId: r.account_id, timezone: r.timezone, state: r.state, planId: r.plan_id, groupId: r.group_id, labels: r.labels, customFields: r.custom_fields }));
}

/** Usage records of these SIMs ending in [from, to), oldest first; at most `limit`. */
export async function usageOf(db: Db, iccids: string[], from: Date, to: Date, limit: number) {
  if (iccids.length === 0) return [];
  const rows = await db
    .selectFrom('usage_records')
    .select(['iccid', 'end_at', 'bytes_in', 'bytes_out', 'mcc_mnc', 'session_id'])
    .where(sql<boolean>`iccid = any(${iccids}::text[])`)
    .where('end_at', '>=', from)
    .where('end_at', '<', to)
    .orderBy('end_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ iccid: r.iccid, at: r.end_at, bytes: Number(r.bytes_in) + Number(r.bytes_out), mccMnc: r.mcc_mnc, sessionId: r.session_id }));
}

/** Sessions of these SIMs that started before `to` and were open at or after `from`. */
export async function sessionsOf(db: Db, iccids: string[], from: Date, to: Date, limit: number) {
  if (iccids.length === 0) return [];
  const rows = await db
    .selectFrom('radius_sessions')
    .select(['id', 'iccid', 'started_at', 'stopped_at', 'mcc_mnc', 'imei'])
    .where(sql<boolean>`iccid = any(${iccids}::text[])`)
    .where('started_at', '<', to)
    .where((eb) => eb.or([eb('stopped_at', 'is', null), eb('stopped_at', '>=', from)]))
    .orderBy('started_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, iccid: r.iccid, startedAt: r.started_at, stoppedAt: r.stopped_at, mccMnc: r.mcc_mnc, imei: r.imei }));
}

/** Which of these SIMs had a session that started before `before`. */
export async function seenBefore(db: Db, iccids: string[], before: Date): Promise<Set<string>> {
  if (iccids.length === 0) return new Set();
  const rows = await db.selectFrom('radius_sessions').select('iccid').distinct().where(sql<boolean>`iccid = any(${iccids}::text[])`).where('started_at', '<', before).execute();
  return new Set(rows.map((r) => r.iccid));
}

/** Completed state changes of these SIMs in [from, to). */
export async function stateChangesOf(db: Db, iccids: string[], from: Date, to: Date, limit: number) {
  if (iccids.length === 0) return [];
  const rows = await db
    .selectFrom('change_records')
    .select(['iccid', 'completed_at', 'old_value', 'new_value', 'reason'])
    .where(sql<boolean>`iccid = any(${iccids}::text[])`)
    .where('field', '=', 'state')
    .where('status', '=', 'completed')
    .where('completed_at', '>=', from)
    .where('completed_at', '<', to)
    .orderBy('completed_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ iccid: r.iccid, at: r.completed_at!, from: r.old_value ?? '', to: r.new_value ?? '', reason: r.reason }));
}

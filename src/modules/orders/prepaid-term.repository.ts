import { type Selectable, sql } from 'kysely';
import type { Executor, PrepaidTermTable } from '../../db/database.ts';

export type TermRow = Selectable<PrepaidTermTable>;
export const TERM_STATUSES = ['in_term', 'expired', 'cancelled'] as const;
export type StoredTermStatus = (typeof TERM_STATUSES)[number];

export interface TermWrite {
  iccid: string;
  accountId: string;
  lastMonth: string;
  expiryDate: string;
  expiresAt: Date;
  cancelAt: Date;
  status: StoredTermStatus;
  remindedDays: number[];
  nextReminderAt: Date | null;
  now: Date;
}

export async function findTerm(db: Executor, iccid: string): Promise<TermRow | undefined> {
  return db.selectFrom('prepaid_terms').selectAll().where('iccid', '=', iccid).executeTakeFirst();
}

/** The stored term of a SIM, locked until the transaction ends (renewals of one SIM are serialised on it). */
export async function lockTerm(db: Executor, iccid: string): Promise<TermRow | undefined> {
  return db.selectFrom('prepaid_terms').selectAll().where('iccid', '=', iccid).forUpdate().executeTakeFirst();
}

export async function findTerms(db: Executor, iccids: string[]): Promise<Map<string, TermRow>> {
  if (iccids.length === 0) return new Map();
  const rows = await db.selectFrom('prepaid_terms').selectAll().where('iccid', '=', sql<string>`any(${iccids}::text[])`).execute();
  return new Map(rows.map((r) => [r.iccid, r]));
}

const values = (t: TermWrite) => ({
  iccid: t.iccid,
  account_id: t.accountId,
  last_month: t.lastMonth,
  expiry_date: t.expiryDate,
  expires_at: t.expiresAt,
  cancel_at: t.cancelAt,
  status: t.status,
  reminded_days: t.remindedDays,
  next_reminder_at: t.nextReminderAt,
  updated_at: t.now,
});

/** Writes terms, replacing the stored ones of the same SIMs. */
export async function upsertTerms(db: Executor, terms: readonly TermWrite[]): Promise<void> {
  if (terms.length === 0) return;
  await db
    .insertInto('prepaid_terms')
    .values(terms.map(values))
    .onConflict((oc) =>
      oc.column('iccid').doUpdateSet((eb) => ({
        account_id: eb.ref('excluded.account_id'),
        last_month: eb.ref('excluded.last_month'),
        expiry_date: eb.ref('excluded.expiry_date'),
        expires_at: eb.ref('excluded.expires_at'),
        cancel_at: eb.ref('excluded.cancel_at'),
        status: eb.ref('excluded.status'),
        reminded_days: eb.ref('excluded.reminded_days'),
        next_reminder_at: eb.ref('excluded.next_reminder_at'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/** Inserts terms for SIMs that have none yet (a concurrent writer's term is kept). */
export async function insertMissingTerms(db: Executor, terms: readonly TermWrite[]): Promise<void> {
  if (terms.length === 0) return;
  await db.insertInto('prepaid_terms').values(terms.map(values)).onConflict((oc) => oc.column('iccid').doNothing()).execute();
}

/** Terms still in force whose end has come: their SIMs are to be suspended. */
export async function dueExpiries(db: Executor, now: Date, limit: number): Promise<TermRow[]> {
  return db.selectFrom('prepaid_terms').selectAll().where('status', '=', 'in_term').where('expires_at', '<=', now).orderBy('expires_at').orderBy('iccid').limit(limit).execute();
}

/** Terms not renewed by the last renewal day: their SIMs are to be cancelled. */
export async function dueCancellations(db: Executor, now: Date, limit: number): Promise<TermRow[]> {
  return db
    .selectFrom('prepaid_terms')
    .selectAll()
    .where('status', 'in', ['in_term', 'expired'])
    .where('cancel_at', '<=', now)
    .orderBy('cancel_at')
    .orderBy('iccid')
    .limit(limit)
    .execute();
}

export async function dueReminders(db: Executor, now: Date, limit: number): Promise<TermRow[]> {
  return db
    .selectFrom('prepaid_terms')
    .selectAll()
    .where('status', '=', 'in_term')
    .where('next_reminder_at', '<=', now)
    .orderBy('next_reminder_at')
    .orderBy('iccid')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Moves terms to `status` when they are still in one of `from` (a renewal committed meanwhile wins). */
export async function setStatus(db: Executor, iccids: string[], from: StoredTermStatus[], status: StoredTermStatus, now: Date): Promise<void> {
  if (iccids.length === 0) return;
  await db
    .updateTable('prepaid_terms')
    .set({ status, updated_at: now })
    .where('iccid', '=', sql<string>`any(${iccids}::text[])`)
    .where('status', 'in', from)
    .execute();
}

export async function setReminders(db: Executor, iccid: string, remindedDays: number[], nextReminderAt: Date | null, now: Date): Promise<void> {
  await db.updateTable('prepaid_terms').set({ reminded_days: remindedDays, next_reminder_at: nextReminderAt, updated_at: now }).where('iccid', '=', iccid).execute();
}

/** SIMs suspended for expiry whose term is in force again (renewed): to be made active. */
export async function renewedButSuspended(db: Executor, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('prepaid_terms')
    .innerJoin('sims', 'sims.iccid', 'prepaid_terms.iccid')
    .select('sims.iccid')
    .where('prepaid_terms.status', '=', 'in_term')
    .where('prepaid_terms.expires_at', '>', now)
    .where('sims.state', '=', 'suspended')
    .where('sims.suspend_reason', '=', 'expiry')
    .orderBy('sims.iccid')
    .limit(limit)
    .execute();
  return rows.map((r) => r.iccid);
}

/** Activated SIMs on one of `planIds` without a stored term, with their account's time zone. */
export async function simsWithoutTerm(
  db: Executor,
  planIds: string[],
  limit: number,
): Promise<{ iccid: string; account_id: string; plan_id: string; activated_at: Date; timezone: string }[]> {
  if (planIds.length === 0) return [];
  const rows = await db
    .selectFrom('sims')
    .innerJoin('accounts', 'accounts.id', 'sims.account_id')
    .select(['sims.iccid', 'sims.account_id', 'sims.plan_id', 'sims.activated_at', 'accounts.timezone'])
    .where('sims.plan_id', '=', sql<string>`any(${planIds}::text[])`)
    .where('sims.activated_at', 'is not', null)
    .where('sims.state', 'not in', ['inventory', 'retired'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('prepaid_terms').select('prepaid_terms.iccid').whereRef('prepaid_terms.iccid', '=', 'sims.iccid'))))
    .orderBy('sims.iccid')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ iccid: r.iccid, account_id: r.account_id, plan_id: r.plan_id!, activated_at: r.activated_at!, timezone: r.timezone }));
}

export async function timeZonesOf(db: Executor, accountIds: string[]): Promise<Map<string, string>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'timezone']).where('id', '=', sql<string>`any(${accountIds}::text[])`).execute();
  return new Map(rows.map((r) => [r.id, r.timezone]));
}

import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { UsageSubject } from '../usage/usage.repository.ts';
import type { SmsCharge } from './sms-usage.ts';

/** What rating an SMS reads of its SIM, locked so that two SMS of one SIM are rated one after the other. */
export interface SmsSim {
  iccid: string;
  accountId: string;
  planId: string | null;
  state: string;
  timezone: string;
}

export async function lockSmsSim(db: Executor, iccid: string): Promise<SmsSim | undefined> {
  const { rows } = await sql<{ iccid: string; account_id: string; plan_id: string | null; state: string; timezone: string }>`
    SELECT s.iccid, s.account_id, s.plan_id, s.state, a.timezone
    FROM sims s JOIN accounts a ON a.id = s.account_id
    WHERE s.iccid = ${iccid}
    FOR UPDATE OF s`.execute(db);
  const r = rows[0];
  return r && { iccid: r.iccid, accountId: r.account_id, planId: r.plan_id, state: r.state, timezone: r.timezone };
}

/** Messages of a SIM counted on a plan in a cycle outside the test period (what the included SMS are used by). */
export async function countedSms(db: Executor, iccid: string, cycle: string, planId: string): Promise<number> {
  const row = await db
    .selectFrom('sms_records')
    .select(sql<string>`coalesce(sum(parts - test_parts), 0)`.as('n'))
    .where('iccid', '=', iccid)
    .where('cycle', '=', cycle)
    .where('plan_id', '=', planId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function isCounted(db: Executor, dedupeKey: string): Promise<boolean> {
  return (await db.selectFrom('sms_records').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst()) !== undefined;
}

export interface NewSmsRecord extends SmsCharge {
  dedupeKey: string;
  smsId: string;
  accountId: string;
  iccid: string;
  direction: 'mo' | 'mt';
  parts: number;
  planId: string | null;
  cycle: string;
  at: Date;
}

/** Stores a rated SMS; false when one with the same key is stored already (it is not counted again). */
export async function insertSmsRecord(db: Executor, r: NewSmsRecord): Promise<boolean> {
  const rows = await db
    .insertInto('sms_records')
    .values({
      dedupe_key: r.dedupeKey,
      sms_id: r.smsId,
      account_id: r.accountId,
      iccid: r.iccid,
      direction: r.direction,
      parts: r.parts,
      plan_id: r.planId,
      cycle: r.cycle,
      test_parts: r.testParts,
      included_parts: r.includedParts,
      charged_parts: r.chargedParts,
      charge_micros: r.chargeMicros,
      at: r.at,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .execute();
  return rows.length > 0;
}

/** Adds SMS to a test-period SIM's test usage; returns the new count and the allowance (null: none). */
export async function addTestSms(db: Executor, iccid: string, parts: number): Promise<{ used: number; allowance: number | null }> {
  const row = await db
    .updateTable('sims')
    .set({ test_used_sms: sql`test_used_sms + ${parts}` })
    .where('iccid', '=', iccid)
    .returning(['test_used_sms', 'test_allowance_sms'])
    .executeTakeFirstOrThrow();
  return { used: Number(row.test_used_sms), allowance: row.test_allowance_sms === null ? null : Number(row.test_allowance_sms) };
}

/** SMS figures of a usage subject over a time range. */
export interface SmsTotals {
  /** Billed messages (segments), MO and MT. */
  messages: number;
  mo: number;
  mt: number;
  test: number;
  included: number;
  charged: number;
  amountMicros: number;
}

export async function sumSms(db: Executor, subject: UsageSubject, scopePath: string, range: { from: Date; to: Date }): Promise<SmsTotals> {
  let q = db
    .selectFrom('sms_records as r')
    .where('r.account_id', 'in', accountIdsUnder(db, scopePath))
    .where('r.at', '>=', range.from)
    .where('r.at', '<', range.to);
  if (subject.kind === 'sim') q = q.where('r.iccid', '=', subject.iccid);
  else if (subject.kind === 'group') q = q.where('r.iccid', 'in', db.selectFrom('sims').select('sims.iccid').where('sims.group_id', '=', subject.groupId));
  else if (subject.descendantsPath !== undefined) q = q.where('r.account_id', 'in', accountIdsUnder(db, subject.descendantsPath));
  else q = q.where('r.account_id', '=', subject.accountId);
  const row = await q
    .select([
      sql<string>`coalesce(sum(r.parts), 0)`.as('messages'),
      sql<string>`coalesce(sum(r.parts) FILTER (WHERE r.direction = 'mo'), 0)`.as('mo'),
      sql<string>`coalesce(sum(r.test_parts), 0)`.as('test'),
      sql<string>`coalesce(sum(r.included_parts), 0)`.as('included'),
      sql<string>`coalesce(sum(r.charged_parts), 0)`.as('charged'),
      sql<string>`coalesce(sum(r.charge_micros), 0)`.as('amount'),
    ])
    .executeTakeFirst();
  const n = (v: unknown) => Number(v ?? 0);
  const messages = n(row?.messages);
  const mo = n(row?.mo);
  return { messages, mo, mt: messages - mo, test: n(row?.test), included: n(row?.included), charged: n(row?.charged), amountMicros: n(row?.amount) };
}

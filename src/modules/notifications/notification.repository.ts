import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, EmailMessageTable, Executor, SmsMessageTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { CLAIM_MS, type EmailMessage, type EmailStatus, type SmsMessage } from './notification.ts';
import type { SmsStatus } from './sms.ts';

type EmailRow = Selectable<EmailMessageTable>;
type SmsRow = Selectable<SmsMessageTable>;

/** Visibility of messages: the account subtree at `path`; the root also sees MO messages that matched no SIM. */
export interface Scope {
  path: string;
  isRoot: boolean;
}

const toEmail = (r: EmailRow): EmailMessage => ({
  id: r.id,
  accountId: r.account_id,
  channel: 'email',
  to: r.recipients,
  template: r.template,
  lang: r.lang,
  subject: r.subject,
  text: r.body_text,
  html: r.body_html,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  error: r.last_error,
  providerMessageId: r.provider_message_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sentAt: r.sent_at,
});

const toSms = (r: SmsRow): SmsMessage => ({
  id: r.id,
  accountId: r.account_id,
  direction: r.direction,
  iccid: r.iccid,
  msisdn: r.msisdn,
  text: r.text,
  encoding: r.encoding,
  segments: r.segments,
  status: r.status as SmsStatus,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  error: r.last_error,
  messageId: r.message_id,
  errorCode: r.error_code,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  submittedAt: r.submitted_at,
  doneAt: r.done_at,
});

export type NewEmail = Pick<EmailMessage, 'id' | 'accountId' | 'to' | 'template' | 'lang' | 'subject' | 'text' | 'html' | 'status' | 'error'> & { at: Date };

/** The message tables the sender works through as queues: `queued` rows due at `next_attempt_at`, claimed for a while. */
type QueueTable = 'email_messages' | 'sms_messages';

/** Claims up to `limit` queued rows of a message table that are due, counting the attempt; a claim lapses after CLAIM_MS. */
async function claimDueRows<T extends QueueTable>(db: Executor, table: T, now: Date, limit: number): Promise<Selectable<Database[T]>[]> {
  // NOTE: SKIP LOCKED and the claim time keep two senders (or a sender and a restarted one) off the same message.
  // Both tables have the queue's columns; the query is typed against the e-mail table's.
  const queue = db as unknown as Kysely<Pick<Database, 'email_messages'>>;
  const from = table as 'email_messages';
  const due = queue
    .selectFrom(from)
    .select('id')
    .where('status', '=', 'queued')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  const rows = await queue
    .updateTable(from)
    .set({ claimed_until: new Date(now.getTime() + CLAIM_MS), attempts: sql`attempts + 1`, updated_at: now })
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows as unknown as Selectable<Database[T]>[];
}

export async function insertEmail(db: Executor, m: NewEmail): Promise<EmailMessage> {
  const row = await db
    .insertInto('email_messages')
    .values({
      id: m.id,
      account_id: m.accountId,
      recipients: JSON.stringify(m.to),
      template: m.template,
      lang: m.lang,
      subject: m.subject,
      body_text: m.text,
      body_html: m.html,
      status: m.status,
      next_attempt_at: m.status === 'queued' ? m.at : null,
      last_error: m.error,
      created_at: m.at,
      updated_at: m.at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEmail(row);
}

/** Claims up to `limit` queued e-mails that are due, counting the attempt; a claim lapses after CLAIM_MS. */
export async function claimDueEmails(db: Executor, now: Date, limit: number): Promise<EmailMessage[]> {
  return (await claimDueRows(db, 'email_messages', now, limit)).map(toEmail).sort((a, b) => a.id.localeCompare(b.id));
}

export async function markEmailSent(db: Executor, id: string, providerMessageId: string | null, now: Date): Promise<void> {
  await db
    .updateTable('email_messages')
    .set({ status: 'sent', provider_message_id: providerMessageId, sent_at: now, updated_at: now, claimed_until: null, next_attempt_at: null, last_error: null })
    .where('id', '=', id)
    .execute();
}

/** Records a failed attempt: queued again at `retryAt`, or `failed` when `retryAt` is null. */
export async function markEmailAttemptFailed(db: Executor, id: string, error: string, retryAt: Date | null, now: Date): Promise<void> {
  await db
    .updateTable('email_messages')
    .set({ status: retryAt ? 'queued' : 'failed', last_error: error, next_attempt_at: retryAt, claimed_until: null, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function findEmail(db: Executor, id: string, scope: Scope): Promise<EmailMessage | undefined> {
  let q = db.selectFrom('email_messages').selectAll().where('id', '=', id);
  if (!scope.isRoot) q = q.where('account_id', 'in', accountIdsUnder(db, scope.path));
  const row = await q.executeTakeFirst();
  return row && toEmail(row);
}

export interface EmailFilter {
  status?: EmailStatus;
  template?: string;
  before?: string;
  limit: number;
}

/** Newest first; `before` is the id the previous page ended with. */
export async function listEmails(db: Executor, scope: Scope, f: EmailFilter): Promise<EmailMessage[]> {
  let q = db.selectFrom('email_messages').selectAll();
  if (!scope.isRoot) q = q.where('account_id', 'in', accountIdsUnder(db, scope.path));
  if (f.status) q = q.where('status', '=', f.status);
  if (f.template) q = q.where('template', '=', f.template);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(f.limit).execute();
  return rows.map(toEmail);
}

export type NewSms = Pick<SmsMessage, 'id' | 'accountId' | 'direction' | 'iccid' | 'msisdn' | 'text' | 'encoding' | 'segments' | 'status' | 'error' | 'createdBy'> & { at: Date };

export async function insertSms(db: Executor, m: NewSms): Promise<SmsMessage> {
  const row = await db
    .insertInto('sms_messages')
    .values({
      id: m.id,
      account_id: m.accountId,
      direction: m.direction,
      iccid: m.iccid,
      msisdn: m.msisdn,
      text: m.text,
      encoding: m.encoding,
      segments: m.segments,
      status: m.status,
      next_attempt_at: m.status === 'queued' ? m.at : null,
      last_error: m.error,
      created_by: m.createdBy,
      created_at: m.at,
      updated_at: m.at,
      done_at: m.status === 'queued' ? null : m.at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSms(row);
}

/** Claims up to `limit` queued MT messages that are due, counting the attempt; a claim lapses after CLAIM_MS. */
export async function claimDueSms(db: Executor, now: Date, limit: number): Promise<SmsMessage[]> {
  return (await claimDueRows(db, 'sms_messages', now, limit)).map(toSms).sort((a, b) => a.id.localeCompare(b.id));
}

/** Gives back claims that were not attempted (the SMSC link went down before the send), without counting the attempt. */
export async function releaseSms(db: Executor, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('sms_messages')
    .set({ claimed_until: null, attempts: sql`greatest(attempts - 1, 0)`, updated_at: now })
    .where('id', '=', sql<string>`any(${ids}::text[])`)
    .execute();
}

/** The SMSC accepted every segment: status `sent`, one segment row per SMSC message id. */
export async function markSmsSubmitted(db: Executor, id: string, smscMessageIds: string[], now: Date): Promise<void> {
  await db
    .updateTable('sms_messages')
    .set({ status: 'sent', message_id: smscMessageIds[0] ?? null, submitted_at: now, updated_at: now, claimed_until: null, next_attempt_at: null, last_error: null })
    .where('id', '=', id)
    .execute();
  await db.deleteFrom('sms_segments').where('sms_id', '=', id).execute();
  await db
    .insertInto('sms_segments')
    .values(smscMessageIds.map((m, i) => ({ sms_id: id, seq: i + 1, smsc_message_id: m, status: 'sent', updated_at: now })))
    .execute();
}

export async function markSmsAttemptFailed(db: Executor, id: string, error: string, retryAt: Date | null, now: Date): Promise<void> {
  await db
    .updateTable('sms_messages')
    .set({ status: retryAt ? 'queued' : 'failed', last_error: error, next_attempt_at: retryAt, claimed_until: null, updated_at: now, done_at: retryAt ? null : now })
    .where('id', '=', id)
    .execute();
}

/** The MT message a segment's SMSC message id belongs to (the latest, should the SMSC reuse ids), locked for the update. */
export async function lockSmsBySmscId(db: Executor, smscMessageId: string): Promise<{ sms: SmsMessage; seq: number } | undefined> {
  const row = await db
    .selectFrom('sms_segments as g')
    .innerJoin('sms_messages as m', 'm.id', 'g.sms_id')
    .selectAll('m')
    .select('g.seq')
    .where('g.smsc_message_id', '=', smscMessageId)
    .orderBy('g.updated_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  return row && { sms: toSms(row), seq: row.seq };
}

/** Sets one segment's status and returns the statuses of all segments of the message. */
export async function updateSegmentStatus(db: Executor, smsId: string, seq: number, status: string, now: Date): Promise<string[]> {
  await db.updateTable('sms_segments').set({ status, updated_at: now }).where('sms_id', '=', smsId).where('seq', '=', seq).execute();
  const rows = await db.selectFrom('sms_segments').select('status').where('sms_id', '=', smsId).orderBy('seq').execute();
  return rows.map((r) => r.status);
}

export async function setSmsStatus(db: Executor, id: string, status: string, errorCode: string | null, doneAt: Date | null, now: Date): Promise<SmsMessage> {
  const row = await db
    .updateTable('sms_messages')
    .set({ status, error_code: errorCode, done_at: doneAt, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSms(row);
}

/** Stores one part of a concatenated MO message and returns every part stored for it so far, in order. */
export async function addMoPart(
  db: Executor,
  p: { msisdn: string; ref: number; total: number; seq: number; text: string; encoding: string; at: Date },
): Promise<{ seq: number; text: string; encoding: string }[]> {
  // NOTE: parts of one message may arrive at once on two connections; the lock makes the last one see all the others.
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`meridian.sms_mo_parts:${p.msisdn}:${p.ref}:${p.total}`}))`.execute(db);
  await db
    .insertInto('sms_mo_parts')
    .values({ msisdn: p.msisdn, ref: p.ref, total: p.total, seq: p.seq, text: p.text, encoding: p.encoding, received_at: p.at })
    .onConflict((oc) => oc.columns(['msisdn', 'ref', 'total', 'seq']).doNothing())
    .execute();
  return db
    .selectFrom('sms_mo_parts')
    .select(['seq', 'text', 'encoding'])
    .where('msisdn', '=', p.msisdn)
    .where('ref', '=', p.ref)
    .where('total', '=', p.total)
    .orderBy('seq')
    .execute();
}

export async function deleteMoParts(db: Executor, msisdn: string, ref: number, total: number): Promise<void> {
  await db.deleteFrom('sms_mo_parts').where('msisdn', '=', msisdn).where('ref', '=', ref).where('total', '=', total).execute();
}

/** Parts of concatenated MO messages still incomplete after `before`: the rest never came. */
export async function deleteStaleMoParts(db: Executor, before: Date): Promise<number> {
  const r = await db.deleteFrom('sms_mo_parts').where('received_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function findSms(db: Executor, id: string, scope: Scope): Promise<SmsMessage | undefined> {
  let q = db.selectFrom('sms_messages').selectAll().where('id', '=', id);
  if (!scope.isRoot) q = q.where('account_id', 'in', accountIdsUnder(db, scope.path));
  const row = await q.executeTakeFirst();
  return row && toSms(row);
}

export interface SmsFilter {
  direction?: 'mo' | 'mt';
  iccid?: string;
  msisdn?: string;
  status?: string[];
  from?: Date;
  to?: Date;
  before?: string;
  limit: number;
}

/** Newest first; `before` is the id the previous page ended with; `from` inclusive, `to` exclusive. */
export async function listSms(db: Executor, scope: Scope, f: SmsFilter): Promise<SmsMessage[]> {
  let q = db.selectFrom('sms_messages').selectAll();
  if (!scope.isRoot) q = q.where('account_id', 'in', accountIdsUnder(db, scope.path));
  if (f.direction) q = q.where('direction', '=', f.direction);
  if (f.iccid) q = q.where('iccid', '=', f.iccid);
  if (f.msisdn) q = q.where('msisdn', '=', f.msisdn);
  if (f.status?.length) q = q.where('status', '=', sql<string>`any(${f.status}::text[])`);
  if (f.from) q = q.where('created_at', '>=', f.from);
  if (f.to) q = q.where('created_at', '<', f.to);
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(f.limit).execute();
  return rows.map(toSms);
}

/** The SIM with this MSISDN, in any account: for MO messages, which arrive from the network without a tenant. */
export async function findSimByMsisdn(db: Executor, msisdn: string): Promise<{ iccid: string; accountId: string } | undefined> {
  const row = await db.selectFrom('sims').select(['iccid', 'account_id']).where('msisdn', '=', msisdn).executeTakeFirst();
  return row && { iccid: row.iccid, accountId: row.account_id };
}

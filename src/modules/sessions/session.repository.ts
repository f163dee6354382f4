import { type Selectable, sql } from 'kysely';
import type { Executor, RadiusSessionTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import { describePlmn } from '../network/plmn.ts';
import type { Session, SessionCursor, SessionFilter, SessionStatus } from './session.ts';

const toSession = (r: Selectable<RadiusSessionTable>): Session => ({
  id: r.id,
  accountId: r.account_id,
  iccid: r.iccid,
  gatewayId: r.gateway_id,
  acctSessionId: r.acct_session_id,
  imsi: r.imsi,
  status: r.status as SessionStatus,
  startedAt: r.started_at,
  lastSeenAt: r.last_seen_at,
  stoppedAt: r.stopped_at,
  stopCause: r.stop_cause,
  bytesIn: Number(r.bytes_in),
  bytesOut: Number(r.bytes_out),
  sessionSeconds: r.session_seconds,
  apn: r.apn,
  framedIp: r.framed_ip,
  rat: r.rat,
  mccMnc: r.mcc_mnc,
  network: r.mcc_mnc ? describePlmn(r.mcc_mnc) : null,
  cell: r.cell,
  imei: r.imei,
});

const scoped = (db: Executor, scopePath: string) =>
  db.selectFrom('radius_sessions').selectAll().where('account_id', 'in', accountIdsUnder(db, scopePath));

/** The newest session of a SIM (open or not) among those of accounts under `scopePath`. */
export async function findLatestSession(db: Executor, iccid: string, scopePath: string): Promise<Session | undefined> {
  const row = await scoped(db, scopePath).where('iccid', '=', iccid).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row && toSession(row);
}

/** Sessions newest first (start time, then id), after `before` when given. */
export async function listSessions(
  db: Executor,
  scopePath: string,
  filter: SessionFilter,
  page: { before?: SessionCursor; limit: number },
): Promise<Session[]> {
  let q = scoped(db, scopePath);
  if (filter.iccid) q = q.where('iccid', '=', filter.iccid);
  if (filter.groupId) q = q.where('iccid', 'in', db.selectFrom('sims').select('sims.iccid').where('sims.group_id', '=', filter.groupId));
  if (filter.status?.length) q = q.where('status', '=', sql<string>`any(${filter.status}::text[])`);
  if (filter.to) q = q.where('started_at', '<', filter.to);
  if (filter.from) {
    const from = filter.from;
    q = q.where((eb) => eb.or([eb('stopped_at', 'is', null), eb('stopped_at', '>=', from)]));
  }
  if (page.before) q = q.where(sql<boolean>`(started_at, id) < (${page.before.startedAt}::timestamptz, ${page.before.id})`);
  const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
  return rows.map(toSession);
}

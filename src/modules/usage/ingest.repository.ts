import { type Selectable, sql } from 'kysely';
import type { Executor, RadiusSessionTable } from '../../db/database.ts';
import type { ConnectionState } from './accounting.ts';

/** One rated-later usage delta to store. */
export interface UsageRow {
  accountId: string;
  iccid: string;
  sessionId: string | null;
  source: 'radius' | 'cdr' | 'api';
  recordKey: string | null;
  startAt: Date;
  endAt: Date;
  bytesIn: number;
  bytesOut: number;
  mccMnc: string | null;
  apn: string | null;
}

/** The full current state of a data session (written as an upsert). */
export interface SessionRow {
  id: string;
  accountId: string;
  iccid: string;
  gatewayId: string;
  acctSessionId: string;
  multiSessionId: string | null;
  imsi: string | null;
  status: ConnectionState;
  startedAt: Date;
  lastSeenAt: Date;
  stoppedAt: Date | null;
  stopCause: string | null;
  bytesIn: number;
  bytesOut: number;
  sessionSeconds: number | null;
  apn: string | null;
  framedIp: string | null;
  rat: string | null;
  mccMnc: string | null;
  cell: Record<string, unknown> | null;
  imei: string | null;
  nasIp: string | null;
  chargingId: string | null;
}

/** Per-SIM figures kept on the SIM row for the list (absolute values, so rewriting them is idempotent). */
export interface SimUsageRow {
  iccid: string;
  connectionState: ConnectionState | null;
  lastSeenAt: Date | null;
  usageDay: string | null;
  usageDayBytes: number;
  usageCycle: string | null;
  usageCycleBytes: number;
  testUsedBytes: number;
}

const col = <T, K extends keyof T>(rows: T[], k: K): T[K][] => rows.map((r) => r[k]);

/** Inserts usage records; ones whose (source, record key) exists already are skipped. Returns the keys inserted. */
export async function insertUsage(db: Executor, rows: UsageRow[], now: Date): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await sql<{ n: number }>`
    WITH inserted AS (
      INSERT INTO usage_records (account_id, iccid, session_id, source, record_key, start_at, end_at, bytes_in, bytes_out, mcc_mnc, apn, created_at)
      SELECT u.*, ${now}::timestamptz FROM unnest(
        ${col(rows, 'accountId')}::text[], ${col(rows, 'iccid')}::text[], ${col(rows, 'sessionId')}::text[], ${col(rows, 'source')}::text[],
        ${col(rows, 'recordKey')}::text[], ${col(rows, 'startAt')}::timestamptz[], ${col(rows, 'endAt')}::timestamptz[],
        ${col(rows, 'bytesIn')}::bigint[], ${col(rows, 'bytesOut')}::bigint[], ${col(rows, 'mccMnc')}::text[], ${col(rows, 'apn')}::text[]) AS u
      ON CONFLICT (source, record_key) WHERE record_key IS NOT NULL DO NOTHING
      RETURNING iccid, end_at, account_id, bytes_in, bytes_out
    ), hourly AS (
      INSERT INTO usage_hourly (iccid, hour, account_id, bytes_in, bytes_out, records)
      SELECT iccid, date_trunc('hour', end_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', max(account_id), sum(bytes_in), sum(bytes_out), count(*)
      FROM inserted
      GROUP BY iccid, date_trunc('hour', end_at AT TIME ZONE 'UTC')
      ON CONFLICT (iccid, hour) DO UPDATE SET
        bytes_in = usage_hourly.bytes_in + EXCLUDED.bytes_in,
        bytes_out = usage_hourly.bytes_out + EXCLUDED.bytes_out,
        records = usage_hourly.records + EXCLUDED.records
    )
    SELECT count(*)::int AS n FROM inserted`.execute(db);
  return res.rows[0]?.n ?? 0;
}

/** Writes sessions (one row per id: the caller passes each session once, in its latest state). */
export async function upsertSessions(db: Executor, rows: SessionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO radius_sessions (id, account_id, iccid, gateway_id, acct_session_id, multi_session_id, imsi, status, started_at,
      last_seen_at, stopped_at, stop_cause, bytes_in, bytes_out, session_seconds, apn, framed_ip, rat, mcc_mnc, cell, imei, nas_ip, charging_id)
    SELECT u.id, u.account_id, u.iccid, u.gateway_id, u.acct_session_id, u.multi_session_id, u.imsi, u.status, u.started_at,
      u.last_seen_at, u.stopped_at, u.stop_cause, u.bytes_in, u.bytes_out, u.session_seconds, u.apn, u.framed_ip, u.rat, u.mcc_mnc,
      u.cell::jsonb, u.imei, u.nas_ip, u.charging_id
    FROM unnest(
      ${col(rows, 'id')}::text[], ${col(rows, 'accountId')}::text[], ${col(rows, 'iccid')}::text[], ${col(rows, 'gatewayId')}::text[],
      ${col(rows, 'acctSessionId')}::text[], ${col(rows, 'multiSessionId')}::text[], ${col(rows, 'imsi')}::text[], ${col(rows, 'status')}::text[],
      ${col(rows, 'startedAt')}::timestamptz[], ${col(rows, 'lastSeenAt')}::timestamptz[], ${col(rows, 'stoppedAt')}::timestamptz[],
      ${col(rows, 'stopCause')}::text[], ${col(rows, 'bytesIn')}::bigint[], ${col(rows, 'bytesOut')}::bigint[], ${col(rows, 'sessionSeconds')}::int[],
      ${col(rows, 'apn')}::text[], ${col(rows, 'framedIp')}::text[], ${col(rows, 'rat')}::text[], ${col(rows, 'mccMnc')}::text[],
      ${rows.map((r) => (r.cell ? JSON.stringify(r.cell) : null))}::text[], ${col(rows, 'imei')}::text[], ${col(rows, 'nasIp')}::text[],
      ${col(rows, 'chargingId')}::text[])
      AS u(id, account_id, iccid, gateway_id, acct_session_id, multi_session_id, imsi, status, started_at, last_seen_at, stopped_at, stop_cause,
           bytes_in, bytes_out, session_seconds, apn, framed_ip, rat, mcc_mnc, cell, imei, nas_ip, charging_id)
    ON CONFLICT (id) DO UPDATE SET
      status = EXCLUDED.status, last_seen_at = EXCLUDED.last_seen_at, stopped_at = EXCLUDED.stopped_at, stop_cause = EXCLUDED.stop_cause,
      bytes_in = greatest(radius_sessions.bytes_in, EXCLUDED.bytes_in), bytes_out = greatest(radius_sessions.bytes_out, EXCLUDED.bytes_out),
      session_seconds = EXCLUDED.session_seconds, apn = coalesce(EXCLUDED.apn, radius_sessions.apn),
      framed_ip = coalesce(EXCLUDED.framed_ip, radius_sessions.framed_ip), rat = coalesce(EXCLUDED.rat, radius_sessions.rat),
      mcc_mnc = coalesce(EXCLUDED.mcc_mnc, radius_sessions.mcc_mnc), cell = coalesce(EXCLUDED.cell, radius_sessions.cell),
      imei = coalesce(EXCLUDED.imei, radius_sessions.imei)`.execute(db);
}

export async function updateSimUsage(db: Executor, rows: SimUsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE sims SET
      connection_state = coalesce(u.connection_state, sims.connection_state), last_seen_at = coalesce(u.last_seen_at, sims.last_seen_at),
      usage_day = u.usage_day, usage_day_bytes = u.usage_day_bytes, usage_cycle = u.usage_cycle, usage_cycle_bytes = u.usage_cycle_bytes,
      test_used_bytes = u.test_used_bytes
    FROM unnest(
      ${col(rows, 'iccid')}::text[], ${col(rows, 'connectionState')}::text[], ${col(rows, 'lastSeenAt')}::timestamptz[],
      ${col(rows, 'usageDay')}::text[], ${col(rows, 'usageDayBytes')}::bigint[], ${col(rows, 'usageCycle')}::text[],
      ${col(rows, 'usageCycleBytes')}::bigint[], ${col(rows, 'testUsedBytes')}::bigint[])
      AS u(iccid, connection_state, last_seen_at, usage_day, usage_day_bytes, usage_cycle, usage_cycle_bytes, test_used_bytes)
    WHERE sims.iccid = u.iccid`.execute(db);
}

/** Sessions that were open (or stopped recently) when the process stopped: the in-memory table starts from them. */
export async function loadRecentSessions(db: Executor, stoppedSince: Date): Promise<SessionRow[]> {
  const rows = await db
    .selectFrom('radius_sessions')
    .selectAll()
    .where((eb) => eb.or([eb('status', '<>', 'stop'), eb('stopped_at', '>=', stoppedSince)]))
    .execute();
  return rows.map(toSessionRow);
}

export async function findSession(db: Executor, id: string): Promise<SessionRow | undefined> {
  const row = await db.selectFrom('radius_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toSessionRow(row);
}

function toSessionRow(r: Selectable<RadiusSessionTable>): SessionRow {
  return {
    id: r.id,
    accountId: r.account_id,
    iccid: r.iccid,
    gatewayId: r.gateway_id,
    acctSessionId: r.acct_session_id,
    multiSessionId: r.multi_session_id,
    imsi: r.imsi,
    status: r.status as ConnectionState,
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
    cell: r.cell,
    imei: r.imei,
    nasIp: r.nas_ip,
    chargingId: r.charging_id,
  };
}

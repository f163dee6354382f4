import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { Executor, RadiusSessionTable, StatementRunner } from '../../db/database.ts';
import { type PoolBalance, type RatedPiece, type SimBalance, storedBalance } from '../rating/rating.ts';
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
  /** Rating: the plan (null: not rated), the charge in micros, the zone and the rated pieces. */
  planId: string | null;
  chargeMicros: number;
  zoneId: string | null;
  pieces: RatedPiece[] | null;
  /** Split billing: the traffic class and the paying account (null: the SIM's account). */
  trafficClass: string | null;
  payerAccountId: string | null;
}

/** A rated SIM's balance of its current cycle (absolute, so writing it again is harmless). */
export interface BalanceRow {
  iccid: string;
  accountId: string;
  cycle: string;
  planId: string;
  balance: SimBalance;
}

/** A pool's balance of one cycle. */
export interface PoolRow extends PoolBalance {
  accountId: string;
  planId: string;
  cycle: string;
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

/** What one group commit writes: new usage records, sessions in their latest state, SIM figures in their latest state. */
export interface UsageBatch {
  usage: UsageRow[];
  /**
   * Sessions in their latest state, one per session id. `full`: the session is new or its network attributes changed,
   * so the whole row is written; otherwise only what every packet changes (the rest is kept as it is).
   */
  sessions: { row: SessionRow; full: boolean }[];
  /** One row per ICCID. */
  sims: SimUsageRow[];
  /** Current balances of rated SIMs and pools (absolute values). Pools in key order, so commits lock them in one order. */
  balances: BalanceRow[];
  pools: PoolRow[];
}

/** Times travel as milliseconds since the epoch: PostgreSQL reads a number far faster than a timestamp text. */
const ms = (d: Date | null): number | null => (d ? d.getTime() : null);

/**
 * Usage records as the JSON document `WRITE_BATCH` reads. Null values (and a zero charge) are left out, which
 * `json_to_recordset` reads as null, so both sides handle less text; undefined keys are skipped by `JSON.stringify`.
 */
const usageJson = (rows: UsageRow[]): string =>
  JSON.stringify(
    rows.map((r) => ({
      account_id: r.accountId,
      iccid: r.iccid,
      session_id: r.sessionId ?? undefined,
      source: r.source,
      record_key: r.recordKey ?? undefined,
      start_at: r.startAt.getTime(),
      end_at: r.endAt.getTime(),
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      mcc_mnc: r.mccMnc ?? undefined,
      apn: r.apn ?? undefined,
      plan_id: r.planId ?? undefined,
      charge_micros: r.chargeMicros === 0 ? undefined : r.chargeMicros,
      zone_id: r.zoneId ?? undefined,
      pieces: r.pieces ?? undefined,
      traffic_class: r.trafficClass ?? undefined,
      payer_account_id: r.payerAccountId ?? undefined,
    })),
  );

const balancesJson = (rows: BalanceRow[]): string =>
  JSON.stringify(rows.map((r) => ({ iccid: r.iccid, account_id: r.accountId, cycle: r.cycle, plan_id: r.planId, balance: storedBalance(r.balance) })));

const poolsJson = (rows: PoolRow[]): string =>
  JSON.stringify(rows.map((r) => ({ account_id: r.accountId, plan_id: r.planId, cycle: r.cycle, size_bytes: r.sizeBytes, remaining_bytes: r.remainingBytes })));

const sessionsJson = (rows: UsageBatch['sessions']): string =>
  JSON.stringify(
    rows.map(({ row: r, full }) => ({
      id: r.id,
      account_id: r.accountId,
      iccid: r.iccid,
      gateway_id: r.gatewayId,
      acct_session_id: r.acctSessionId,
      status: r.status,
      started_at: r.startedAt.getTime(),
      last_seen_at: r.lastSeenAt.getTime(),
      stopped_at: ms(r.stoppedAt),
      stop_cause: r.stopCause,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      session_seconds: r.sessionSeconds,
      ...(full
        ? {
            multi_session_id: r.multiSessionId,
            imsi: r.imsi,
            apn: r.apn,
            framed_ip: r.framedIp,
            rat: r.rat,
            mcc_mnc: r.mccMnc,
            cell: r.cell,
            imei: r.imei,
            nas_ip: r.nasIp,
            charging_id: r.chargingId,
          }
        : {}),
    })),
  );

const simsJson = (rows: SimUsageRow[]): string =>
  JSON.stringify(
    rows.map((r) => ({
      iccid: r.iccid,
      connection_state: r.connectionState,
      last_seen_at: ms(r.lastSeenAt),
      usage_day: r.usageDay,
      usage_day_bytes: r.usageDayBytes,
      usage_cycle: r.usageCycle,
      usage_cycle_bytes: r.usageCycleBytes,
      test_used_bytes: r.testUsedBytes,
    })),
  );

const WRITE_BATCH_STEPS = `
    WITH inserted AS (
      INSERT INTO usage_records (account_id, iccid, session_id, source, record_key, start_at, end_at, bytes_in, bytes_out, mcc_mnc, apn, created_at,
        plan_id, charge_micros, zone_id, pieces, traffic_class, payer_account_id)
      SELECT u.account_id, u.iccid, u.session_id, u.source, u.record_key, to_timestamp(u.start_at / 1000), to_timestamp(u.end_at / 1000), u.bytes_in, u.bytes_out, u.mcc_mnc, u.apn,
        $4::timestamptz, u.plan_id, coalesce(u.charge_micros, 0), u.zone_id, u.pieces, u.traffic_class, u.payer_account_id
      FROM json_to_recordset($1::json) AS u(account_id text, iccid text, session_id text, source text, record_key text,
        start_at float8, end_at float8, bytes_in bigint, bytes_out bigint, mcc_mnc text, apn text, plan_id text, charge_micros bigint,
        zone_id text, pieces jsonb, traffic_class text, payer_account_id text)
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
    ), sessions AS (
      INSERT INTO radius_sessions (id, account_id, iccid, gateway_id, acct_session_id, multi_session_id, imsi, status, started_at,
        last_seen_at, stopped_at, stop_cause, bytes_in, bytes_out, session_seconds, apn, framed_ip, rat, mcc_mnc, cell, imei, nas_ip, charging_id)
      SELECT s.id, s.account_id, s.iccid, s.gateway_id, s.acct_session_id, s.multi_session_id, s.imsi, s.status, to_timestamp(s.started_at / 1000),
        to_timestamp(s.last_seen_at / 1000), to_timestamp(s.stopped_at / 1000), s.stop_cause, s.bytes_in, s.bytes_out, s.session_seconds, s.apn, s.framed_ip, s.rat, s.mcc_mnc,
        s.cell, s.imei, s.nas_ip, s.charging_id
      FROM json_to_recordset($2::json) AS s(id text, account_id text, iccid text, gateway_id text,
        acct_session_id text, multi_session_id text, imsi text, status text, started_at float8, last_seen_at float8,
        stopped_at float8, stop_cause text, bytes_in bigint, bytes_out bigint, session_seconds int, apn text, framed_ip text,
        rat text, mcc_mnc text, cell jsonb, imei text, nas_ip text, charging_id text)
      ON CONFLICT (id) DO UPDATE SET
        status = EXCLUDED.status, last_seen_at = EXCLUDED.last_seen_at, stopped_at = EXCLUDED.stopped_at, stop_cause = EXCLUDED.stop_cause,
        bytes_in = greatest(radius_sessions.bytes_in, EXCLUDED.bytes_in), bytes_out = greatest(radius_sessions.bytes_out, EXCLUDED.bytes_out),
        session_seconds = EXCLUDED.session_seconds, apn = coalesce(EXCLUDED.apn, radius_sessions.apn),
        framed_ip = coalesce(EXCLUDED.framed_ip, radius_sessions.framed_ip), rat = coalesce(EXCLUDED.rat, radius_sessions.rat),
        mcc_mnc = coalesce(EXCLUDED.mcc_mnc, radius_sessions.mcc_mnc), cell = coalesce(EXCLUDED.cell, radius_sessions.cell),
        imei = coalesce(EXCLUDED.imei, radius_sessions.imei)
    ), figures AS (
      UPDATE sims SET
        connection_state = coalesce(m.connection_state, sims.connection_state), last_seen_at = coalesce(to_timestamp(m.last_seen_at / 1000), sims.last_seen_at),
        usage_day = m.usage_day, usage_day_bytes = m.usage_day_bytes, usage_cycle = m.usage_cycle, usage_cycle_bytes = m.usage_cycle_bytes,
        test_used_bytes = m.test_used_bytes
      FROM json_to_recordset($3::json) AS m(iccid text, connection_state text, last_seen_at float8,
        usage_day text, usage_day_bytes bigint, usage_cycle text, usage_cycle_bytes bigint, test_used_bytes bigint)
      WHERE sims.iccid = m.iccid
    ), balances AS (
      INSERT INTO sim_balances (iccid, account_id, cycle, plan_id, balance, updated_at)
      SELECT b.iccid, b.account_id, b.cycle, b.plan_id, b.balance, $4::timestamptz
      FROM json_to_recordset($5::json) AS b(iccid text, account_id text, cycle text, plan_id text, balance jsonb)
      ON CONFLICT (iccid) DO UPDATE SET cycle = EXCLUDED.cycle, plan_id = EXCLUDED.plan_id, balance = EXCLUDED.balance, updated_at = EXCLUDED.updated_at
    ), pools AS (
      INSERT INTO pool_balances (account_id, plan_id, cycle, size_bytes, remaining_bytes, updated_at)
      SELECT p.account_id, p.plan_id, p.cycle, p.size_bytes, p.remaining_bytes, $4::timestamptz
      FROM json_to_recordset($6::json) AS p(account_id text, plan_id text, cycle text, size_bytes bigint, remaining_bytes bigint)
      ON CONFLICT (account_id, plan_id, cycle) DO UPDATE SET
        size_bytes = EXCLUDED.size_bytes, remaining_bytes = EXCLUDED.remaining_bytes, updated_at = EXCLUDED.updated_at
    )`;
const WRITE_BATCH_COUNT = '\n    SELECT count(*)::int AS n FROM inserted';
const WRITE_BATCH = `${WRITE_BATCH_STEPS}${WRITE_BATCH_COUNT}`;

/**
 * Writes one group commit as a single statement, so it is one round trip and one transaction of its own: usage
 * records (those whose (source, record key) exists already are skipped) with their hourly roll-up, sessions (upserts, so
 * each goes through its primary key whatever the plan), SIM figures, and the balances of rated SIMs and pools.
 * Rows go as JSON documents, which cost the client far less to build than one array per column.
 * The statement is named, so PostgreSQL parses and plans it once per connection instead of once per commit.
 * Returns how many usage records were inserted.
 */
export async function writeBatch(run: StatementRunner, batch: UsageBatch, now: Date): Promise<number> {
  const rows = await run({ name: 'usage_write_batch', text: WRITE_BATCH, values: [usageJson(batch.usage), sessionsJson(batch.sessions), simsJson(batch.sims), now, balancesJson(batch.balances), poolsJson(batch.pools)] });
  return Number(rows[0]?.n ?? 0);
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

/** A SIM's figures of today and of the cycle, as the journal keeps them. */
export interface JournalFigures {
  iccid: string;
  usageDay: string | null;
  usageDayBytes: number;
  usageCycle: string | null;
  usageCycleBytes: number;
}

/** What a commit adds to and removes from the SIM figure journal of its lane. */
export interface JournalChange {
  lane: number;
  /** Figures to append as row `seq` of the lane (none: nothing appended). */
  seq: number;
  figures: JournalFigures[];
  /** Rows of the lane up to this `seq` to delete: their SIMs' figures are on the SIM rows (null: none). */
  doneUpTo: number | null;
}

const journalJson = (rows: JournalFigures[]): string =>
  JSON.stringify(rows.map((r) => ({ iccid: r.iccid, usage_day: r.usageDay, usage_day_bytes: r.usageDayBytes, usage_cycle: r.usageCycle, usage_cycle_bytes: r.usageCycleBytes })));

/**
 * `WRITE_BATCH` with the SIM figure journal of one lane: appends row ($8, $7) holding $9 unless $9 is null, and
 * deletes the lane's rows up to $10 (a row appended by the same statement is not among them).
 */
const WRITE_BATCH_JOURNALED = `${WRITE_BATCH_STEPS}, journal_added AS (
      INSERT INTO sim_figure_journal (lane, seq, figures, created_at)
      SELECT $7::int, $8::bigint, $9::text, $4::timestamptz WHERE $9::text IS NOT NULL
    ), journal_done AS (
      DELETE FROM sim_figure_journal WHERE lane = $7::int AND seq <= $10::bigint
    )${WRITE_BATCH_COUNT}`;

/**
 * Writes a group commit that holds external usage, like `writeBatch`, in one statement, and changes the SIM figure
 * journal of the lane with it. Returns how many usage records were inserted.
 */
export async function writeJournaledBatch(run: StatementRunner, batch: UsageBatch, journal: JournalChange, now: Date): Promise<number> {
  const rows = await run({
    name: 'usage_write_batch_journaled',
    text: WRITE_BATCH_JOURNALED,
    values: [
      usageJson(batch.usage),
      sessionsJson(batch.sessions),
      simsJson(batch.sims),
      now,
      balancesJson(batch.balances),
      poolsJson(batch.pools),
      journal.lane,
      journal.seq,
      journal.figures.length ? journalJson(journal.figures) : null,
      journal.doneUpTo ?? -1,
    ],
  });
  return Number(rows[0]?.n ?? 0);
}

/**
 * Moves what the SIM figure journal holds onto the SIM rows and empties it (at start, before the SIMs are loaded).
 * A SIM's figures only grow within a day (or cycle) and move on to later days, so for each one the latest of the row
 * and every snapshot of the journal is the greatest (day, bytes). Returns the number of SIM rows changed.
 */
export async function applyFigureJournal(db: Executor): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    WITH snap AS (
      SELECT f.iccid, f.usage_day, f.usage_day_bytes, f.usage_cycle, f.usage_cycle_bytes
      FROM sim_figure_journal j
      CROSS JOIN LATERAL json_to_recordset(j.figures::json) AS f(iccid text, usage_day text, usage_day_bytes bigint, usage_cycle text, usage_cycle_bytes bigint)
    ), day AS (
      SELECT DISTINCT ON (iccid) iccid, usage_day, usage_day_bytes FROM snap WHERE usage_day IS NOT NULL ORDER BY iccid, usage_day DESC, usage_day_bytes DESC
    ), cycle AS (
      SELECT DISTINCT ON (iccid) iccid, usage_cycle, usage_cycle_bytes FROM snap WHERE usage_cycle IS NOT NULL ORDER BY iccid, usage_cycle DESC, usage_cycle_bytes DESC
    ), latest AS (
      SELECT coalesce(d.iccid, c.iccid) AS iccid, d.usage_day, d.usage_day_bytes, c.usage_cycle, c.usage_cycle_bytes
      FROM day d FULL JOIN cycle c ON c.iccid = d.iccid
    ), applied AS (
      UPDATE sims s SET
        usage_day = CASE WHEN (l.usage_day, l.usage_day_bytes) > (coalesce(s.usage_day, ''), s.usage_day_bytes) THEN l.usage_day ELSE s.usage_day END,
        usage_day_bytes = CASE WHEN (l.usage_day, l.usage_day_bytes) > (coalesce(s.usage_day, ''), s.usage_day_bytes) THEN l.usage_day_bytes ELSE s.usage_day_bytes END,
        usage_cycle = CASE WHEN (l.usage_cycle, l.usage_cycle_bytes) > (coalesce(s.usage_cycle, ''), s.usage_cycle_bytes) THEN l.usage_cycle ELSE s.usage_cycle END,
        usage_cycle_bytes = CASE WHEN (l.usage_cycle, l.usage_cycle_bytes) > (coalesce(s.usage_cycle, ''), s.usage_cycle_bytes) THEN l.usage_cycle_bytes ELSE s.usage_cycle_bytes END
      FROM latest l
      WHERE s.iccid = l.iccid
        AND ((l.usage_day, l.usage_day_bytes) > (coalesce(s.usage_day, ''), s.usage_day_bytes)
          OR (l.usage_cycle, l.usage_cycle_bytes) > (coalesce(s.usage_cycle, ''), s.usage_cycle_bytes))
      RETURNING 1
    ), emptied AS (
      DELETE FROM sim_figure_journal
    )
    SELECT count(*)::int AS n FROM applied`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

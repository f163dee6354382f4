import type { Logger } from 'pino';
import type { Db, StatementRunner } from '../db/database.ts';
import { runThrough } from '../db/open-database.ts';
import { type AccountingInput, nextConnectionState, usageDelta } from '../modules/usage/accounting.ts';
import * as repo from '../modules/usage/ingest.repository.ts';
import type { SessionRow, SimUsageRow, UsageRow } from '../modules/usage/ingest.repository.ts';
import type { Clock } from '../shared/clock.ts';
import { Interned } from '../shared/interned.ts';
import { localDate } from '../shared/time-zone.ts';
import type { Enforcement as RatingEnforcement } from '../modules/rating/rating.ts';
import { Backpressure, GroupCommit } from './group-commit.ts';
import { observeCommitted, type UsageObserver } from './observations.ts';
import { type Rated, RatingBook } from './rating-book.ts';
import type { HotSim, SimIndex } from './sim-index.ts';

export interface GatewayRef {
  id: string;
  accountId: string;
}

export type AccountingOutcome = 'recorded' | 'unknown_sim' | 'no_session_id' | 'gateway_reset';

/** A usage delta from a source other than RADIUS (CDR files, the API), already resolved to a SIM. */
export interface ExternalUsage {
  sim: HotSim;
  source: 'cdr' | 'api';
  recordKey: string;
  startAt: Date;
  endAt: Date;
  bytesIn: number;
  bytesOut: number;
  mccMnc: string | null;
  apn: string | null;
  /**
   * Where the usage went, when the source reports it: an IP address or host name (directed access), or the
   * destination class the gateway assigned (split-billing rules match it).
   */
  destination?: string | null;
}

/** What one packet (or one chunk of CDR records) changes, written by the next group commit. */
interface CommitItem {
  usage: UsageRow[];
  session: SessionRow | null;
  /**
   * True when the whole session row must be written: the packet created the session (its row may not be in the
   * database yet) or changed its network attributes (IP, RAT, serving network, cell, IMEI).
   */
  fullSession?: boolean;
  /** SIMs whose usage figures changed (written from their current values in memory). */
  sims: HotSim[];
  /** The connection state the packet leaves its SIM in (RADIUS only). */
  connection: { lastSeenAt: Date; state: SessionRow['status'] } | null;
  /** Balances changed by rating: SIMs (by ICCID) and pools (by key) whose current balance the commit writes. */
  balances?: string[];
  pools?: string[];
  /** External usage: the SIMs whose figures go to the journal of the lane, as row `seq`. */
  external?: { journaled: HotSim[]; lane: number; seq: number };
  /** A lane's journal rows up to `upTo` can go: the SIMs they hold are written by this commit or an earlier one. */
  journalDone?: { lane: number; upTo: number };
  undo: () => void;
}

export interface UsageEngineSettings {
  maxBatch: number;
  maxQueue: number;
  /** A session with no packet for this long is closed (its Stop was lost). */
  sessionTimeoutSeconds: number;
  /**
   * Group commits in flight at once (default 1). SIMs are split between them by ICCID, so the packets of one SIM
   * are always written in order and two commits never touch the same row; use more than one only where the
   * database has several connections.
   */
  lanes?: number;
  /** Under load, a lane starts a commit at most this often (milliseconds; see `GroupCommitOptions.minIntervalMs`). */
  commitIntervalMs?: number;
  /** Runs the commit statement (named on PostgreSQL); default: through `db`. */
  run?: StatementRunner;
}

export interface UsageEngineHooks {
  /** A SIM whose usage asks for an automatic transition (silent → active on first session, test allowance used up). */
  onTransitionNeeded?(sim: HotSim, to: 'active', reason: string): void;
  /**
   * Rating asks for enforcement: `quota` or `cutoff` (suspend the SIM with reason quota and disconnect it),
   * `out_of_coverage` (disconnect its session: the plan blocks that network). Called as soon as the packet is rated,
   * before its usage is durable, so that a session can be cut off without waiting for the commit; `durable` settles
   * when the commit does (it rejects when the commit failed and the usage was rolled back).
   */
  onEnforcement?(sim: HotSim, enforcement: Exclude<RatingEnforcement, 'none'>, detail: string, durable: Promise<void>): void;
  /** A SIM suspended for quota has data again (a top-up): it may become active. */
  onDataAgain?(sim: HotSim, detail: string): void;
  onBatch?(size: number, ms: number): void;
  /** Usage is durable: a session's packet (with the session) or an external record; for policy checks. */
  onUsage?(sim: HotSim, session: SessionRow | null, usage: ExternalUsage | null): void;
}

/** How long a gateway retransmits a request (RFC 5080 suggests that a client gives up after 30 s). */
export const RETRANSMISSION_WINDOW_MS = 30_000;
/**
 * A stopped session stays in memory this long, for the retransmissions of its Stop: as long as the RADIUS server keeps
 * its answers. A packet of a session forgotten since is counted against its row, read from the database. Kept short
 * on purpose: every session held is old-generation heap that each major collection marks again (ADR 0034).
 */
const STOPPED_KEPT_MS = RETRANSMISSION_WINDOW_MS;
/** External usage leaves SIM figures in the journal for at most about this long before they are written to the SIMs. */
const JOURNAL_KEPT_MS = 30_000;
/** SIM rows written by one commit when journaled figures are moved to the SIMs. */
const SETTLE_SIMS = 5_000;

/**
 * The usage hot path: counts each accounting packet exactly once against its session's cumulative counters,
 * keeps SIM usage figures in memory and makes everything durable by group commit before the caller answers.
 */
export class UsageEngine {
  private readonly sessions = new Map<string, SessionRow>();
  /** The sessions of each SIM: the session itself while it has one (most do), a list when it has several. */
  private readonly sessionsBySim = new Map<string, SessionRow | SessionRow[]>();
  /** APN, RAT, serving network and gateway address of the sessions: few values, one string object each. */
  private readonly shared = new Interned(10_000);
  private readonly lanes: GroupCommit<CommitItem>[];
  private readonly run: StatementRunner;
  private readonly commitListeners: ((size: number, ms: number) => void)[] = [];
  private observer: UsageObserver | undefined;
  /** Per lane: SIMs whose latest figures are in the journal, not on their rows, and since when. */
  private readonly journaled: { sims: Set<HotSim>; since: number }[];
  /** Journal row numbers: from the clock, so that they also grow across restarts. */
  private journalSeq = Date.now() * 1000;
  private readonly settling = new Set<Promise<void>>();
  /** Plans, zones and the balances of the current cycle. */
  readonly rating: RatingBook;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly sims: SimIndex,
    private readonly log: Logger,
    private readonly settings: UsageEngineSettings,
    private readonly hooks: UsageEngineHooks = {},
  ) {
    this.run = settings.run ?? runThrough(db);
    this.rating = new RatingBook(db, () => sims.all(), () => clock.now());
    this.lanes = Array.from(
      { length: Math.max(1, settings.lanes ?? 1) },
      () =>
        new GroupCommit<CommitItem>(
          (items) => this.write(items),
          {
            maxBatch: settings.maxBatch,
            maxQueue: Math.ceil(settings.maxQueue / Math.max(1, settings.lanes ?? 1)),
            minIntervalMs: settings.commitIntervalMs ?? 0,
          },
          (items, error) => {
            this.log.error({ err: error, items: items.length }, 'usage commit failed; in-memory state rolled back, packets left unanswered');
            for (let i = items.length - 1; i >= 0; i--) items[i]!.undo();
          },
          (size, ms) => {
            hooks.onBatch?.(size, ms);
            for (const listener of this.commitListeners) listener(size, ms);
          },
        ),
    );
    this.journaled = this.lanes.map(() => ({ sims: new Set<HotSim>(), since: 0 }));
  }

  /** Loads SIMs and the sessions that were open at the last stop. */
  async start(): Promise<{ sims: number; sessions: number }> {
    // NOTE: figures that external usage left in the journal at the last stop go onto the SIM rows before they are read.
    await repo.applyFigureJournal(this.db);
    const sims = await this.sims.load();
    await this.rating.load();
    const rows = await repo.loadRecentSessions(this.db, new Date(this.clock.now().getTime() - STOPPED_KEPT_MS));
    for (const s of rows) this.remember(s);
    return { sims, sessions: rows.length };
  }

  /** Calls `listener` after each group commit with its number of items and how long it took. */
  onCommit(listener: (size: number, ms: number) => void): void {
    this.commitListeners.push(listener);
  }

  /** Sets who evaluates automation rules and usage thresholds on what each commit made durable. */
  setObserver(observer: UsageObserver): void {
    this.observer = observer;
  }

  get queued(): number {
    return this.lanes.reduce((n, lane) => n + lane.queued, 0);
  }

  /**
   * The group commit that writes a SIM's changes: chosen by ICCID, or by account for a SIM on a pooled plan, so that
   * one pool's balance is always written by one commit at a time, in order.
   */
  private laneOf(sim: HotSim, at: Date): GroupCommit<CommitItem> {
    const lanes = this.lanes;
    if (lanes.length === 1) return lanes[0]!;
    const key = sim.planId && this.rating.planOf(sim, at)?.sharing === 'pooled' ? sim.accountId : sim.iccid;
    let h = 0;
    for (let i = Math.max(0, key.length - 6); i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return lanes[(h >>> 0) % lanes.length]!;
  }

  /** Open sessions of a SIM (for enforcement). */
  openSessionsOf(iccid: string): SessionRow[] {
    const held = this.sessionsBySim.get(iccid);
    return (held === undefined ? [] : Array.isArray(held) ? held : [held]).filter((s) => s.status !== 'stop');
  }

  /** Sessions held in memory: open, and stopped but kept for late retransmissions. */
  heldSessions(): { open: number; stopped: number } {
    let stopped = 0;
    for (const s of this.sessions.values()) if (s.status === 'stop') stopped++;
    return { open: this.sessions.size - stopped, stopped };
  }

  /** Counts one Accounting-Request; resolves once what it changed is durable (answer the gateway then). */
  async accounting(gateway: GatewayRef, input: AccountingInput): Promise<AccountingOutcome> {
    if (input.status === 'accounting-on' || input.status === 'accounting-off') {
      await this.closeSessions((s) => s.gatewayId === gateway.id, input.status === 'accounting-on' ? 'nas-reboot' : 'nas-request');
      return 'gateway_reset';
    }
    if (!input.acctSessionId) return 'no_session_id';
    const imsi = input.imsi ?? (input.userName && /^\d{15}$/.test(input.userName) ? input.userName : null);
    const sim = await this.sims.resolve(imsi, input.msisdn);
    if (!sim) return 'unknown_sim';
    const lane = this.laneOf(sim, this.clock.now());
    // NOTE: refuse before touching memory: a refused packet must leave nothing behind for its retransmission.
    if (lane.full) throw new Backpressure('commit queue full');

    const id = `${gateway.id}:${input.acctSessionId}`;
    let session = this.sessions.get(id);
    if (!session && input.status !== 'start') {
      // NOTE: rare path (Start lost, or the session is older than what was loaded at start): read it once.
      session = await repo.findSession(this.db, id);
      if (session) this.remember(session);
    }
    const now = this.clock.now();
    const before = session ? { ...session } : undefined;
    const current: SessionRow = session ?? {
      id,
      accountId: sim.accountId,
      iccid: sim.iccid,
      gatewayId: gateway.id,
      acctSessionId: input.acctSessionId,
      multiSessionId: input.multiSessionId,
      // NOTE: the SIM's own string, not a copy per session.
      imsi: sim.imsis.find((i) => i === imsi) ?? imsi,
      status: 'start',
      startedAt: input.eventTime ?? now,
      lastSeenAt: now,
      stoppedAt: null,
      stopCause: null,
      bytesIn: 0,
      bytesOut: 0,
      sessionSeconds: null,
      apn: null,
      framedIp: null,
      rat: null,
      mccMnc: null,
      cell: null,
      imei: null,
      nasIp: null,
      chargingId: null,
    };
    const fullSession = !before || attributesDiffer(before, input);
    const { delta, next } = usageDelta(current, input);
    const previousSeen = current.lastSeenAt;
    const status = nextConnectionState(before ? before.status : null, input.status);
    Object.assign(current, {
      status,
      lastSeenAt: now,
      bytesIn: next.bytesIn,
      bytesOut: next.bytesOut,
      stoppedAt: status === 'stop' ? (current.stoppedAt ?? input.eventTime ?? now) : null,
      stopCause: status === 'stop' ? (current.stopCause ?? input.terminateCause ?? 'stop') : null,
      sessionSeconds: input.sessionSeconds ?? current.sessionSeconds,
      apn: this.kept(input.apn, current.apn, true),
      framedIp: this.kept(input.framedIp, current.framedIp),
      rat: this.kept(input.rat, current.rat, true),
      mccMnc: this.kept(input.mccMnc, current.mccMnc, true),
      cell: input.cell === null || sameCell(current.cell, input.cell) ? current.cell : input.cell,
      imei: this.kept(input.imei, current.imei),
      nasIp: this.kept(input.nasIp, current.nasIp, true),
      chargingId: this.kept(input.chargingId, current.chargingId),
    });
    if (!session) this.remember(current);

    const bytes = delta.bytesIn + delta.bytesOut;
    const undoSim = this.addUsage(sim, bytes, now);
    const rated = bytes > 0 ? this.rating.rate(sim, bytes, before ? before.bytesIn + before.bytesOut : 0, current.mccMnc, now) : undefined;
    const usage: UsageRow | null =
      bytes > 0
        ? {
            accountId: sim.accountId,
            iccid: sim.iccid,
            sessionId: id,
            source: 'radius',
            recordKey: null,
            startAt: before ? previousSeen : current.startedAt,
            endAt: input.eventTime && input.eventTime > previousSeen ? input.eventTime : now,
            bytesIn: delta.bytesIn,
            bytesOut: delta.bytesOut,
            mccMnc: current.mccMnc,
            apn: current.apn,
            ...this.rating.recordFields(sim, current.apn, rated, input.destinationClass ?? null),
          }
        : null;
    const item: CommitItem = {
      usage: usage ? [usage] : [],
      ...(rated ? { balances: [sim.iccid], pools: rated.poolKey ? [rated.poolKey] : [] } : {}),
      session: { ...current },
      fullSession,
      sims: [sim],
      connection: { lastSeenAt: now, state: status },
      undo: () => {
        if (rated) this.rating.undo(sim, rated);
        undoSim();
        if (before) Object.assign(current, before);
        else this.forget(current);
      },
    };
    // NOTE: memory changed and the item is submitted in one synchronous step, so a refusal can undo exactly this packet.
    const durable = lane.submit(item).catch((e: unknown) => {
      if (e instanceof Backpressure) item.undo();
      throw e;
    });
    if (rated) this.enforce(sim, rated, durable);
    await durable;
    this.checkTransitions(sim, input.status === 'start' || bytes > 0);
    if (this.observer) observeCommitted(this.observer, sim, bytes, now, rated, { before, current });
    if (status !== 'stop') this.hooks.onUsage?.(sim, current, null);
    return 'recorded';
  }

  /**
   * Stores usage from CDR files or the API through the same commit path, as one item; the caller has dropped
   * record keys seen before (the unique index would skip them, but the SIM figures would count them).
   */
  async ingest(records: ExternalUsage[]): Promise<void> {
    if (records.length === 0) return;
    while (this.lanes.some((lane) => lane.full)) await this.drain();
    const now = this.clock.now();
    const byLane = new Map<number, ExternalUsage[]>();
    for (const r of records) {
      const lane = this.lanes.length === 1 ? 0 : this.lanes.indexOf(this.laneOf(r.sim, r.endAt));
      const list = byLane.get(lane);
      if (list) list.push(r);
      else byLane.set(lane, [r]);
    }
    const enforcements: [HotSim, Rated][] = [];
    const observed: [HotSim, number, Date, Rated | undefined][] = [];
    const today = new Map<string, string>();
    await Promise.all(
      [...byLane].map(([index, part]) => {
        // NOTE: undo restores each SIM's figures as they were before the item and the rated records' balances in reverse.
        const figuresBefore = new Map<HotSim, FiguresSnapshot>();
        const ratedUndo: [HotSim, Rated][] = [];
        const balances = new Set<string>();
        const pools = new Set<string>();
        const usage: UsageRow[] = [];
        for (const r of part) {
          const sim = r.sim;
          const bytes = r.bytesIn + r.bytesOut;
          if (!figuresBefore.has(sim)) figuresBefore.set(sim, snapshotFigures(sim));
          let day = today.get(sim.timezone);
          if (day === undefined) today.set(sim.timezone, (day = localDate(now, sim.timezone)));
          countUsage(sim, bytes, day, localDate(r.endAt, sim.timezone));
          const rated = this.rating.rate(sim, bytes, 0, r.mccMnc, r.endAt);
          if (this.observer) observed.push([sim, bytes, r.endAt, rated]);
          if (rated) {
            ratedUndo.push([sim, rated]);
            balances.add(sim.iccid);
            if (rated.poolKey) pools.add(rated.poolKey);
            if (rated.result.enforcement !== 'none') enforcements.push([sim, rated]);
          }
          const { sim: _, destination, ...record } = r;
          usage.push({ accountId: sim.accountId, iccid: sim.iccid, sessionId: null, ...record, ...this.rating.recordFields(sim, r.apn, rated, destination ?? null) });
        }
        // NOTE: a SIM in its test period is written at once (its test counter is reset by state changes, so the journal
        // could not tell an older snapshot from a newer one); the others' figures go to the journal of the lane.
        const sims: HotSim[] = [];
        const journaled: HotSim[] = [];
        const held = this.journaled[index]!;
        for (const sim of figuresBefore.keys()) {
          if (sim.state === 'test') sims.push(sim);
          else {
            journaled.push(sim);
            if (held.sims.size === 0) held.since = now.getTime();
            held.sims.add(sim);
          }
        }
        const item: CommitItem = {
          usage,
          external: { journaled, lane: index, seq: ++this.journalSeq },
          session: null,
          sims,
          connection: null,
          balances: [...balances],
          pools: [...pools],
          undo: () => {
            for (let i = ratedUndo.length - 1; i >= 0; i--) this.rating.undo(ratedUndo[i]![0], ratedUndo[i]![1]);
            for (const [sim, before] of figuresBefore) Object.assign(sim, before);
          },
        };
        const submitted = this.lanes[index]!.submit(item);
        if (now.getTime() - held.since >= JOURNAL_KEPT_MS) this.track(this.settleLane(index));
        return submitted;
      }),
    );
    for (const sim of new Set(records.map((r) => r.sim))) this.checkTransitions(sim, true);
    for (const [sim, rated] of enforcements) this.enforce(sim, rated, Promise.resolve());
    if (this.observer) for (const [sim, bytes, at, rated] of observed) observeCommitted(this.observer, sim, bytes, at, rated);
    if (this.hooks.onUsage) for (const r of records) this.hooks.onUsage(r.sim, null, r);
  }

  /**
   * Writes the figures that external usage left in the journal onto the SIM rows (a few thousand SIMs per commit)
   * and empties the journal; resolves once that is durable. Importers call it when a file is done.
   */
  async settleFigures(): Promise<void> {
    await Promise.all([...this.lanes.keys()].map((index) => this.settleLane(index)));
    while (this.settling.size) await Promise.all([...this.settling]);
  }

  private async settleLane(index: number): Promise<void> {
    const held = this.journaled[index]!;
    if (held.sims.size === 0) return;
    const sims = [...held.sims];
    held.sims.clear();
    // NOTE: every journal row of the lane up to this seq holds only SIMs of `sims` (the set is taken in the same step).
    const upTo = this.journalSeq;
    const lane = this.lanes[index]!;
    // NOTE: commit k takes every n-th SIM from the k-th on: SIMs counted together often lie side by side on the same
    // pages, and a commit that updates most rows of a page finds no room there for a HOT update (then every index of
    // `sims` gets a new entry); spread over the commits, each update finds room (measured: all HOT, a quarter faster).
    const commits = Math.ceil(sims.length / SETTLE_SIMS);
    for (let k = 0; k < commits; k++) {
      const part: HotSim[] = [];
      for (let i = k; i < sims.length; i += commits) part.push(sims[i]!);
      while (lane.full) await this.drain();
      const last = k === commits - 1;
      try {
        await lane.submit({ usage: [], session: null, sims: part, connection: null, ...(last ? { journalDone: { lane: index, upTo } } : {}), undo: () => undefined });
      } catch (e) {
        // NOTE: the SIMs not written yet stay held (their figures are still in the journal) for the next settle.
        if (held.sims.size === 0) held.since = this.clock.now().getTime();
        for (let i = 0; i < sims.length; i++) if (i % commits >= k) held.sims.add(sims[i]!);
        throw e;
      }
    }
  }

  private track(settling: Promise<void>): void {
    const tracked = settling
      .catch((err: unknown) => this.log.error({ err }, 'writing journaled SIM figures failed; they stay in the journal'))
      .finally(() => this.settling.delete(tracked));
    this.settling.add(tracked);
  }

  /**
   * Adds a top-up to its SIM's balance and writes the balance through the group commit; a SIM suspended for quota
   * that has data again is then handed to `onDataAgain`.
   */
  async addTopUp(t: { id: string; iccid: string; bytes: number; expiresAt: Date }): Promise<void> {
    const sim = await this.sims.resolveIccid(t.iccid);
    if (!sim) return;
    const now = this.clock.now();
    const lane = this.laneOf(sim, now);
    while (lane.full) await this.drain();
    const change = this.rating.addTopUp(sim.iccid, { id: t.id, remainingBytes: t.bytes, expiresAtMs: t.expiresAt.getTime() });
    if (!change) return;
    await lane.submit({ usage: [], session: null, sims: [], connection: null, balances: [sim.iccid], pools: [], undo: change.undo });
    if (sim.state === 'suspended' && sim.suspendReason === 'quota' && this.rating.hasDataAgain(sim, now)) {
      this.hooks.onDataAgain?.(sim, `top-up ${t.id} of ${t.bytes} bytes added`);
    }
  }

  /** Closes sessions matching `which` (gateway restart, lost Stop). */
  async closeSessions(which: (s: SessionRow) => boolean, cause: string): Promise<number> {
    const now = this.clock.now();
    const closing = [...this.sessions.values()].filter((s) => s.status !== 'stop' && which(s));
    await Promise.all(
      closing.map((s) => {
        const before = { ...s };
        Object.assign(s, { status: 'stop', stoppedAt: now, stopCause: cause });
        const sim = this.sims.getByIccid(s.iccid);
        if (!sim) return Promise.resolve();
        return this.laneOf(sim, now)
          .submit({ usage: [], session: { ...s }, sims: [sim], connection: { lastSeenAt: s.lastSeenAt, state: 'stop' }, undo: () => Object.assign(s, before) })
          .then(() => this.observer && observeCommitted(this.observer, sim, 0, now, undefined, { before, current: s }));
      }),
    );
    return closing.length;
  }

  /** Closes sessions silent for longer than the timeout and forgets long-stopped ones. */
  async expireSessions(): Promise<number> {
    const now = this.clock.now().getTime();
    for (const s of this.sessions.values()) {
      if (s.status === 'stop' && s.stoppedAt && now - s.stoppedAt.getTime() > STOPPED_KEPT_MS) this.forget(s);
    }
    return this.closeSessions((s) => now - s.lastSeenAt.getTime() > this.settings.sessionTimeoutSeconds * 1000, 'session-timeout');
  }

  /** Waits until everything accepted is durable. */
  async drain(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.drain()));
  }

  /** Adds bytes used now to the SIM's figures for today and this cycle, in its account's time zone; returns the undo. */
  private addUsage(sim: HotSim, bytes: number, now: Date): () => void {
    const before = snapshotFigures(sim);
    const day = localDate(now, sim.timezone);
    countUsage(sim, bytes, day, day);
    return () => Object.assign(sim, before);
  }

  /** Hands a rating outcome that needs action to the hook, once per SIM state (a suspended SIM is not asked again). */
  private enforce(sim: HotSim, rated: Rated, durable: Promise<void>): void {
    const e = rated.result.enforcement;
    if (e === 'none' || !this.hooks.onEnforcement) return;
    // NOTE: the hook observes `durable`, so a failed commit is not also reported as unhandled here.
    durable.catch(() => undefined);
    if (e === 'out_of_coverage') return this.hooks.onEnforcement(sim, e, `plan ${rated.plan.id} does not cover the serving network`, durable);
    if (sim.state !== 'active' && sim.state !== 'test') return;
    const detail =
      e === 'cutoff'
        ? `cut-off threshold of ${rated.plan.cutoffBytes} bytes reached in ${rated.cycle} (plan ${rated.plan.id})`
        : `included data and top-ups of plan ${rated.plan.id} used up in ${rated.cycle}`;
    this.hooks.onEnforcement(sim, e, detail, durable);
  }

  private checkTransitions(sim: HotSim, used: boolean): void {
    if (!used || !this.hooks.onTransitionNeeded) return;
    if (sim.state === 'silent') this.hooks.onTransitionNeeded(sim, 'active', 'first network attach ended the silent period');
    else if (sim.state === 'test' && sim.testAllowanceBytes !== null && sim.testUsedBytes >= sim.testAllowanceBytes) {
      this.hooks.onTransitionNeeded(sim, 'active', `test allowance of ${sim.testAllowanceBytes} bytes used up`);
    }
  }

  private async write(items: CommitItem[]): Promise<void> {
    const now = this.clock.now();
    const usage = items.flatMap((i) => i.usage);
    // NOTE: a session or SIM touched several times in one batch is written once, in its latest state.
    const sessions = new Map<string, SessionRow>();
    const full = new Set<string>();
    const sims = new Map<string, SimUsageRow>();
    const balances = new Set<string>();
    const pools = new Set<string>();
    for (const i of items) {
      for (const b of i.balances ?? []) balances.add(b);
      for (const p of i.pools ?? []) pools.add(p);
      if (i.session) {
        sessions.set(i.session.id, i.session);
        if (i.fullSession) full.add(i.session.id);
      }
      for (const sim of i.sims) {
        const prev = sims.get(sim.iccid);
        sims.set(sim.iccid, {
          iccid: sim.iccid,
          connectionState: i.connection?.state ?? prev?.connectionState ?? null,
          lastSeenAt: i.connection?.lastSeenAt ?? prev?.lastSeenAt ?? null,
          usageDay: sim.usageDay,
          usageDayBytes: sim.usageDayBytes,
          usageCycle: sim.usageCycle,
          usageCycleBytes: sim.usageCycleBytes,
          testUsedBytes: sim.testUsedBytes,
        });
      }
    }
    // NOTE: a known session whose network attributes did not change is written without them (they are kept).
    const sessionRows = [...sessions.values()].map((row) => ({ row, full: full.has(row.id) }));
    const rated = this.rating.rows(balances, [...pools].sort());
    if (items.some((i) => i.external || i.journalDone)) {
      await repo.writeJournaledBatch(this.run, { usage, sessions: sessionRows, sims: [...sims.values()], ...rated }, this.journalChange(items, sims), now);
      return;
    }
    await repo.writeBatch(this.run, { usage, sessions: sessionRows, sims: [...sims.values()], ...rated }, now);
  }

  /** The journal rows a commit of external usage adds and deletes (all items of a commit are of one lane). */
  private journalChange(items: CommitItem[], written: Map<string, SimUsageRow>): repo.JournalChange {
    const figures = new Map<string, repo.JournalFigures>();
    let lane = 0;
    let seq = 0;
    let doneUpTo: number | null = null;
    for (const i of items) {
      if (i.journalDone) ({ lane, upTo: doneUpTo } = i.journalDone);
      if (!i.external) continue;
      ({ lane, seq } = i.external);
      for (const sim of i.external.journaled) {
        // NOTE: a SIM whose row this commit writes needs no journal entry; figures are read from memory at commit time.
        if (!written.has(sim.iccid)) figures.set(sim.iccid, { iccid: sim.iccid, usageDay: sim.usageDay, usageDayBytes: sim.usageDayBytes, usageCycle: sim.usageCycle, usageCycleBytes: sim.usageCycleBytes });
      }
    }
    return { lane, seq, figures: [...figures.values()], doneUpTo };
  }

  private remember(s: SessionRow): void {
    const known = this.sessions.get(s.id);
    this.sessions.set(s.id, s);
    if (known) this.unlist(known);
    const held = this.sessionsBySim.get(s.iccid);
    if (held === undefined) this.sessionsBySim.set(s.iccid, s);
    else if (Array.isArray(held)) held.push(s);
    else this.sessionsBySim.set(s.iccid, [held, s]);
  }

  private forget(s: SessionRow): void {
    if (this.sessions.get(s.id) !== s) return;
    this.sessions.delete(s.id);
    this.unlist(s);
  }

  private unlist(s: SessionRow): void {
    const held = this.sessionsBySim.get(s.iccid);
    if (held === s) this.sessionsBySim.delete(s.iccid);
    else if (Array.isArray(held)) {
      const rest = held.filter((x) => x !== s);
      if (rest.length === held.length) return;
      this.sessionsBySim.set(s.iccid, rest.length === 1 ? rest[0]! : rest);
    }
  }

  /** The value of a session attribute after a packet: the held string when the packet's is equal or absent. */
  private kept<T extends string>(next: T | null, held: T | null, shared = false): T | null {
    if (next === null || next === held) return held;
    return shared ? this.shared.of(next) : next;
  }
}

type FiguresSnapshot = Pick<HotSim, 'usageDay' | 'usageDayBytes' | 'usageCycle' | 'usageCycleBytes' | 'testUsedBytes'>;

const snapshotFigures = (sim: HotSim): FiguresSnapshot => ({
  usageDay: sim.usageDay,
  usageDayBytes: sim.usageDayBytes,
  usageCycle: sim.usageCycle,
  usageCycleBytes: sim.usageCycleBytes,
  testUsedBytes: sim.testUsedBytes,
});

/**
 * Adds `bytes` used on the local date `usedOn` to a SIM's figures, `today` being today in its time zone: usage of an
 * earlier day (a late CDR file) counts in the reports by its own time, not in today's figure.
 */
function countUsage(sim: HotSim, bytes: number, today: string, usedOn: string): void {
  if (sim.usageDay !== today) Object.assign(sim, { usageDay: today, usageDayBytes: 0 });
  if (sim.usageCycle !== today.slice(0, 7)) Object.assign(sim, { usageCycle: today.slice(0, 7), usageCycleBytes: 0 });
  if (usedOn === today) sim.usageDayBytes += bytes;
  if (usedOn.slice(0, 7) === today.slice(0, 7)) sim.usageCycleBytes += bytes;
  if (sim.state === 'test') sim.testUsedBytes += bytes;
}

/**
 * A packet's value of a session attribute, or the session's when the packet has none or the same: the session then
 * keeps its own string, and the packet's copy dies young instead of in the old generation.
 */

const sameCell = (a: Record<string, unknown> | null, b: Record<string, unknown>): boolean => {
  if (!a) return false;
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
};

/** Whether a packet brings network attributes other than the session's (a handover, a new address). */
function attributesDiffer(s: SessionRow, input: AccountingInput): boolean {
  return (
    (input.framedIp !== null && input.framedIp !== s.framedIp) ||
    (input.rat !== null && input.rat !== s.rat) ||
    (input.mccMnc !== null && input.mccMnc !== s.mccMnc) ||
    (input.imei !== null && input.imei !== s.imei) ||
    (input.cell !== null && !sameCell(s.cell, input.cell))
  );
}

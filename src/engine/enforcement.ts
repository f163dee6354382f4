import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { insertChangeRecords } from '../modules/changes/change-record.repository.ts';
import { publishEvents } from '../modules/events/event.repository.ts';
import type { ChangeSource, SimState } from '../modules/sims/sim.ts';
import type { SessionRow } from '../modules/usage/ingest.repository.ts';
import type { Clock } from '../shared/clock.ts';
import type { UsageEngine } from './usage-engine.ts';

/** Where a gateway takes Disconnect-Requests. */
export interface DisconnectTarget {
  host: string;
  port: number;
  secret: string;
}

export interface DisconnectOutcome {
  result: 'ack' | 'nak' | 'timeout';
  errorCause?: number;
  attempts: number;
  ms: number;
}

/** The port to the network for RFC 5176 Disconnect-Requests. */
export interface DisconnectSender {
  disconnect(target: DisconnectTarget, session: SessionRow): Promise<DisconnectOutcome>;
}

/** Finds the Disconnect-Request destination of a session's gateway. */
export interface GatewayDirectory {
  disconnectTarget(gatewayId: string, nasIp: string | null): DisconnectTarget | undefined;
}

const RECENT_ACK_MS = 30_000;

/** States in which a SIM may not keep a data session. */
export const BARRED_STATES: readonly SimState[] = ['suspended', 'deactivated', 'retired'];

/**
 * Real-time enforcement: a SIM that may no longer be online is disconnected at once on every gateway where
 * it has a session; each attempt's ACK/NAK is written as a change record of field `session`.
 */
export class Enforcement {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly usage: UsageEngine,
    private readonly gateways: GatewayDirectory,
    private readonly sender: DisconnectSender,
    private readonly log: Logger,
  ) {}

  /** Disconnects of a session in flight or acknowledged lately (by session id): asked again, they are not sent again. */
  private readonly recent = new Map<string, Promise<DisconnectOutcome>>();

  /**
   * Disconnects every open session of a SIM; resolves with one outcome per session. A session whose disconnect is in
   * flight, or was acknowledged less than half a minute ago (its Stop is on the way), gets that disconnect's outcome.
   */
  async disconnectSim(sim: { iccid: string; accountId: string }, origin: { source: ChangeSource; actor: string | null; reason: string | null }): Promise<DisconnectOutcome[]> {
    const sessions = this.usage.openSessionsOf(sim.iccid);
    return Promise.all(sessions.map((s) => this.recent.get(s.id) ?? this.track(s.id, this.disconnectSession(sim, s, origin))));
  }

  private track(sessionId: string, outcome: Promise<DisconnectOutcome>): Promise<DisconnectOutcome> {
    this.recent.set(sessionId, outcome);
    const forget = () => void this.recent.delete(sessionId);
    outcome.then((o) => (o.result === 'ack' ? setTimeout(forget, RECENT_ACK_MS).unref() : forget()), forget);
    return outcome;
  }

  private async disconnectSession(
    sim: { iccid: string; accountId: string },
    session: SessionRow,
    origin: { source: ChangeSource; actor: string | null; reason: string | null },
  ): Promise<DisconnectOutcome> {
    const target = this.gateways.disconnectTarget(session.gatewayId, session.nasIp);
    const outcome: DisconnectOutcome = target
      ? await this.sender.disconnect(target, session).catch((err: unknown) => {
          this.log.error({ err, iccid: sim.iccid }, 'disconnect failed');
          return { result: 'timeout' as const, attempts: 0, ms: 0 };
        })
      : { result: 'timeout', attempts: 0, ms: 0 };
    const now = this.clock.now();
    const error = !target
      ? `gateway ${session.gatewayId} is not registered or has no address for Disconnect-Requests`
      : outcome.result === 'nak'
        ? `gateway answered Disconnect-NAK${outcome.errorCause ? ` (Error-Cause ${outcome.errorCause})` : ''}`
        : outcome.result === 'timeout'
          ? `no answer from the gateway after ${outcome.attempts} attempts`
          : null;
    const newValue = outcome.result === 'ack' ? 'disconnected' : 'disconnect_failed';
    await this.db
      .transaction()
      .execute(async (trx) => {
        await insertChangeRecords(trx, [
          {
            accountId: sim.accountId,
            iccid: sim.iccid,
            field: 'session',
            oldValue: session.acctSessionId,
            newValue,
            source: origin.source,
            actor: origin.actor,
            reason: origin.reason,
            status: error ? 'failed' : 'completed',
            error,
            jobId: null,
            createdAt: now,
            completedAt: now,
          },
        ]);
        await publishEvents(
          trx,
          [
            {
              type: 'sim.session_disconnected',
              accountId: sim.accountId,
              subject: { kind: 'sim', id: sim.iccid },
              data: { iccid: sim.iccid, acctSessionId: session.acctSessionId, result: newValue, error, reason: origin.reason },
            },
          ],
          now,
        );
      })
      .catch((err: unknown) => this.log.error({ err, iccid: sim.iccid }, 'could not record a disconnect'));
    this.log.info({ iccid: sim.iccid, session: session.id, ...outcome }, 'disconnect sent');
    return outcome;
  }
}

/** Data sessions (PDP/PDN contexts) as seen from RADIUS accounting: types and cursor rules. Pure, no I/O. */
import type { Plmn } from '../network/plmn.ts';

export const SESSION_STATUSES = ['start', 'alive', 'stop'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export interface Session {
  id: string;
  accountId: string;
  iccid: string;
  gatewayId: string;
  acctSessionId: string;
  imsi: string | null;
  /** start: Accounting-Start seen; alive: interim updates arriving; stop: ended (Stop packet or timeout). */
  status: SessionStatus;
  startedAt: Date;
  lastSeenAt: Date;
  stoppedAt: Date | null;
  stopCause: string | null;
  /** Cumulative octets of the session (uplink = in, downlink = out, from the gateway's point of view). */
  bytesIn: number;
  bytesOut: number;
  sessionSeconds: number | null;
  apn: string | null;
  framedIp: string | null;
  rat: string | null;
  mccMnc: string | null;
  /** Serving network described from mccMnc (country, operator name), when it parses. */
  network: Plmn | null;
  /** User location (ULI): MCC, MNC, LAC/TAC, cell id, as decoded by the RADIUS server. */
  cell: Record<string, unknown> | null;
  imei: string | null;
}

export interface SessionFilter {
  iccid?: string;
  groupId?: string;
  status?: SessionStatus[];
  /** Sessions still open at or ended after this time. */
  from?: Date;
  /** Sessions started before this time. */
  to?: Date;
}

/** Position in a newest-first list: the start time and id of the last session of the previous page. */
export interface SessionCursor {
  startedAt: Date;
  id: string;
}

export const encodeSessionCursor = (s: Pick<Session, 'startedAt' | 'id'>): string =>
  Buffer.from(JSON.stringify({ t: s.startedAt.toISOString(), id: s.id })).toString('base64url');

export function decodeSessionCursor(raw: string): SessionCursor | null {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as { t?: unknown; id?: unknown };
    if (typeof c.t !== 'string' || typeof c.id !== 'string') return null;
    const startedAt = new Date(c.t);
    return Number.isNaN(startedAt.getTime()) ? null : { startedAt, id: c.id };
  } catch {
    return null;
  }
}

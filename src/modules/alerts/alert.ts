/** Alerts (告警): types and rules. Pure, no I/O. */
import type { Subject } from '../events/event.ts';

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_STATES = ['unhandled', 'handled'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** An alert to raise, in the same transaction as what caused it. */
export interface NewAlert {
  accountId: string;
  /** What happened, snake_case, e.g. `imei_mismatch`, `webhook_endpoint_paused`. */
  type: string;
  severity: AlertSeverity;
  subject: Subject;
  message: string;
  data?: Record<string, unknown>;
}

export interface Alert {
  id: string;
  accountId: string;
  type: string;
  severity: AlertSeverity;
  subject: Subject;
  message: string;
  data: Record<string, unknown>;
  raisedAt: Date;
  state: AlertState;
  handledBy: string | null;
  handledAt: Date | null;
  remark: string | null;
}

export interface AlertFilter {
  ids?: string[];
  types?: string[];
  severities?: AlertSeverity[];
  states?: AlertState[];
  subjectKind?: string;
  subjectId?: string;
  accountId?: string;
  handledBy?: string;
  from?: Date;
  to?: Date;
  /** Words that must all appear in the message, type or subject id (case-insensitive). */
  text?: string;
}

/** Position in a newest-first list: raised time and id of the last alert of the previous page. */
export const encodeAlertCursor = (a: Pick<Alert, 'raisedAt' | 'id'>): string =>
  Buffer.from(JSON.stringify({ t: a.raisedAt.toISOString(), id: a.id })).toString('base64url');

export function decodeAlertCursor(raw: string): { raisedAt: Date; id: string } | null {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as { t?: unknown; id?: unknown };
    if (typeof c.t !== 'string' || typeof c.id !== 'string') return null;
    const raisedAt = new Date(c.t);
    return Number.isNaN(raisedAt.getTime()) ? null : { raisedAt, id: c.id };
  } catch {
    return null;
  }
}

export const REMARK_MAX_LENGTH = 2000;

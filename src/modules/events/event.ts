/** Events of the outbox: types and cursor rules. Pure, no I/O. */

export const SUBJECT_KINDS = ['sim', 'group', 'pool', 'account', 'webhook', 'order', 'alert', 'sms'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export interface Subject {
  kind: SubjectKind;
  id: string;
}

/** An event to publish, in the same transaction as the change it reports. */
export interface NewEvent {
  /** A type of the event catalogue, e.g. `sim.state_changed`. */
  type: string;
  /** The account the subject belongs to: the event is visible to it and to the accounts above it. */
  accountId: string;
  subject: Subject;
  data: Record<string, unknown>;
  /** When it happened, if not at the time the batch of events is published with. */
  occurredAt?: Date;
}

/** A stored event. `sequence` orders events by when they were written. */
export interface StoredEvent extends NewEvent {
  id: string;
  sequence: number;
  occurredAt: Date;
}

export interface EventFilter {
  types?: string[];
  subjectKind?: SubjectKind;
  subjectId?: string;
  accountId?: string;
  from?: Date;
  to?: Date;
}

/** Position in a list: the sequence of the last event of the previous page. */
export const encodeEventCursor = (sequence: number): string => Buffer.from(`e:${sequence}`).toString('base64url');

export function decodeEventCursor(raw: string): number | null {
  const m = /^e:(\d{1,18})$/.exec(Buffer.from(raw, 'base64url').toString());
  return m ? Number(m[1]) : null;
}

/**
 * True when `type` matches the pattern: the exact type, `*` for every type, or `prefix.*` for every type under the
 * prefix (`sim.*` matches `sim.state_changed`, not `simcard.x`).
 */
export function matchesEventType(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

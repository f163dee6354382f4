/** Counting rules for RADIUS accounting (RFC 2866): pure, no I/O. */

export type AccountingStatus = 'start' | 'interim' | 'stop' | 'accounting-on' | 'accounting-off';

/** What one Accounting-Request says, already decoded. Counters are cumulative for the session. */
export interface AccountingInput {
  status: AccountingStatus;
  acctSessionId: string | null;
  multiSessionId: string | null;
  userName: string | null;
  imsi: string | null;
  msisdn: string | null;
  /** Octets + gigawords × 2^32, exact. */
  bytesIn: number;
  bytesOut: number;
  /** True when the gateway sent Acct-*-Gigawords, so a smaller counter cannot be a 32-bit wrap. */
  hasGigawords: boolean;
  sessionSeconds: number | null;
  eventTime: Date | null;
  apn: string | null;
  framedIp: string | null;
  rat: string | null;
  mccMnc: string | null;
  cell: Record<string, unknown> | null;
  imei: string | null;
  nasIp: string | null;
  chargingId: string | null;
  terminateCause: string | null;
  /** Destination class the gateway reported in the attribute its settings name (split billing); absent: none. */
  destinationClass?: string | null;
}

export interface Counters {
  bytesIn: number;
  bytesOut: number;
}

const WRAP = 2 ** 32;

/** Bytes added by one direction's new cumulative counter; 0 for a stale (out-of-order) or repeated one. */
export function counterDelta(last: number, current: number, hasGigawords: boolean): { delta: number; next: number } {
  if (current >= last) return { delta: current - last, next: current };
  // NOTE: a counter that fell by more than half the 32-bit range without gigawords wrapped around; anything
  // else that went backwards is an older packet arriving late and adds nothing.
  if (!hasGigawords && last < WRAP && last - current > WRAP / 2) return { delta: current + WRAP - last, next: current };
  return { delta: 0, next: last };
}

/** Usage since the last counted packet of a session, and the counters to remember. */
export function usageDelta(
  last: Counters,
  input: Pick<AccountingInput, 'bytesIn' | 'bytesOut' | 'hasGigawords'>,
): { delta: Counters; next: Counters } {
  const i = counterDelta(last.bytesIn, input.bytesIn, input.hasGigawords);
  const o = counterDelta(last.bytesOut, input.bytesOut, input.hasGigawords);
  return { delta: { bytesIn: i.delta, bytesOut: o.delta }, next: { bytesIn: i.next, bytesOut: o.next } };
}

export type ConnectionState = 'start' | 'alive' | 'stop';

/** The connection state a packet leaves the session in (Start / Alive / Stop as operators know it). */
export function nextConnectionState(current: ConnectionState | null, status: AccountingStatus): ConnectionState {
  if (status === 'stop' || current === 'stop') return 'stop';
  if (status === 'start' && current === null) return 'start';
  return status === 'interim' ? 'alive' : (current ?? 'start');
}

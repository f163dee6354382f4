import type { DisconnectOutcome, DisconnectSender, DisconnectTarget } from '../engine/enforcement.ts';
import type { AttributeRef } from '../modules/gateways/gateway.ts';
import type { AccountingInput } from '../modules/usage/accounting.ts';
import type { SessionRow } from '../modules/usage/ingest.repository.ts';
import { luhnCheckDigit } from '../shared/luhn.ts';
import { Attr, attr, ipv4Value, type OutgoingAttribute } from './attributes.ts';
import type { RadiusPacket } from './codec.ts';
import type { DynamicAuthorizationClient } from './disconnect-client.ts';
import { readAccessRequest, readAccounting } from './readers.ts';
import type { UserLocation } from './three-gpp.ts';

/** The cell a session is served by, as stored with it: PLMN and the area/cell codes the gateway reported. */
function cellOf(location: UserLocation | null): Record<string, unknown> | null {
  if (!location) return null;
  const { typeCode: _t, raw: _r, ...rest } = location;
  return rest;
}

/**
 * The IMEI of a 3GPP-IMEISV (14 to 16 digits): its first 14 digits (TAC + serial number) and the Luhn check digit
 * computed over them; the software version is dropped, so the same device always gives the same IMEI.
 */
export function imeiOf(imeisv: string | null): string | null {
  return imeisv && /^\d{14,16}$/.test(imeisv) ? `${imeisv.slice(0, 14)}${luhnCheckDigit(imeisv.slice(0, 14))}` : null;
}

const MAX_DESTINATION_CLASS = 64;

/**
 * The destination class in the attribute a gateway's settings name: printable text as sent (trimmed, at most 64
 * characters), a 4-octet integer (a rating group, say) in decimal, anything else in hex; null when absent or empty.
 */
export function destinationClassOf(packet: RadiusPacket, ref: AttributeRef): string | null {
  const a = packet.attributes;
  const i = ref.vendorId === 0 ? a.find(ref.type) : a.findVendor(ref.vendorId, ref.type);
  if (i < 0 || a.valueLength(i) === 0) return null;
  const v = a.value(i);
  const printable = v.every((c) => c >= 0x20 && c < 0x7f);
  const text = printable ? v.toString('latin1').trim() : v.length === 4 ? String(a.uint32(i)) : v.toString('hex');
  return text === '' ? null : text.slice(0, MAX_DESTINATION_CLASS);
}

/**
 * An Accounting-Request as the usage engine reads it. Packets without a known Acct-Status-Type count as interim.
 * `destinationClassAt`: where the gateway reports the destination class, if it does.
 */
export function toAccountingInput(packet: RadiusPacket, destinationClassAt: AttributeRef | null = null): AccountingInput {
  const f = readAccounting(packet);
  return {
    status: f.status ?? 'interim',
    acctSessionId: f.acctSessionId,
    multiSessionId: f.multiSessionId,
    userName: f.userName,
    imsi: f.imsi,
    msisdn: f.msisdn,
    bytesIn: f.bytesIn,
    bytesOut: f.bytesOut,
    hasGigawords: f.hasGigawords,
    sessionSeconds: f.sessionSeconds,
    eventTime: f.eventTime,
    apn: f.apn,
    framedIp: f.framedIp,
    rat: f.rat,
    mccMnc: f.sgsnMccMnc ?? (f.location?.mcc && f.location.mnc ? `${f.location.mcc}${f.location.mnc}` : null),
    cell: cellOf(f.location),
    imei: imeiOf(f.imeisv),
    nasIp: f.nasIp,
    chargingId: f.chargingId === null ? null : String(f.chargingId),
    terminateCause: f.terminateCause,
    destinationClass: destinationClassAt ? destinationClassOf(packet, destinationClassAt) : null,
  };
}

/** Who an Access-Request is for, and what policies read of it: the device, the serving network and the APN. */
export function toAccessQuery(packet: RadiusPacket): { imsi: string | null; msisdn: string | null; imei: string | null; mccMnc: string | null; apn: string | null } {
  const f = readAccessRequest(packet);
  const imsi = f.imsi ?? (f.userName && /^\d{15}$/.test(f.userName) ? f.userName : null);
  const mccMnc = f.sgsnMccMnc ?? (f.location?.mcc && f.location.mnc ? `${f.location.mcc}${f.location.mnc}` : null);
  return { imsi, msisdn: f.msisdn, imei: imeiOf(f.imeisv), mccMnc, apn: f.apn };
}

/** The attributes that identify a session in a Disconnect-Request (RFC 5176 section 3). */
export function disconnectAttributes(s: SessionRow): OutgoingAttribute[] {
  const out: OutgoingAttribute[] = [attr(Attr.AcctSessionId, s.acctSessionId)];
  if (s.imsi) out.push(attr(Attr.UserName, s.imsi));
  if (s.framedIp && /^\d+\.\d+\.\d+\.\d+$/.test(s.framedIp)) out.push(attr(Attr.FramedIpAddress, ipv4Value(s.framedIp)));
  if (s.nasIp && /^\d+\.\d+\.\d+\.\d+$/.test(s.nasIp)) out.push(attr(Attr.NasIpAddress, ipv4Value(s.nasIp)));
  return out;
}

/** Sends enforcement's Disconnect-Requests through the RFC 5176 client. */
export class RadiusDisconnectSender implements DisconnectSender {
  constructor(
    private readonly client: DynamicAuthorizationClient,
    private readonly settings: { timeoutMs: number; retries: number },
  ) {}

  async disconnect(target: DisconnectTarget, session: SessionRow): Promise<DisconnectOutcome> {
    const r = await this.client.sendDisconnect({
      host: target.host,
      port: target.port,
      secret: target.secret,
      attributes: disconnectAttributes(session),
      timeoutMs: this.settings.timeoutMs,
      retries: this.settings.retries,
    });
    return { result: r.result, errorCause: r.errorCause, attempts: r.attempts, ms: r.ms };
  }
}

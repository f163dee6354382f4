/** Typed views of decoded Accounting-Request and Access-Request packets: one pass over the attributes, never throws. */
import type { AccountingStatus } from '../modules/usage/accounting.ts';
import { Attr, Attr3gpp, TERMINATE_CAUSES, VENDOR_3GPP } from './attributes.ts';
import type { AttributeList, RadiusPacket } from './codec.ts';
import { decodeMsTimeZone, decodeTbcd, decodeUserLocationInfo, type MsTimeZone, RAT_TYPES, type UserLocation } from './three-gpp.ts';

const STATUS: Readonly<Record<number, AccountingStatus>> = {
  1: 'start',
  2: 'stop',
  3: 'interim',
  7: 'accounting-on',
  8: 'accounting-off',
};

/** What the subscriber side of a request says: common to accounting and authentication. */
export interface SubscriberFields {
  userName: string | null;
  /** Calling-Station-Id: the MSISDN on mobile gateways. */
  msisdn: string | null;
  /** Called-Station-Id: the APN (DNN). */
  apn: string | null;
  framedIp: string | null;
  nasIp: string | null;
  nasIdentifier: string | null;
  imsi: string | null;
  imeisv: string | null;
  /** 3GPP-RAT-Type value, its TS 29.274 name and the short name ('4G', 'NB-IoT', '5G' ...). */
  ratType: number | null;
  ratName: string | null;
  rat: string | null;
  /** 3GPP-SGSN-MCC-MNC: the serving network. */
  sgsnMccMnc: string | null;
  imsiMccMnc: string | null;
  ggsnMccMnc: string | null;
  location: UserLocation | null;
  timeZone: MsTimeZone | null;
}

export interface AccountingFields extends SubscriberFields {
  /** Acct-Status-Type as sent, and as a name when it is one the usage engine knows. */
  statusType: number | null;
  status: AccountingStatus | null;
  acctSessionId: string | null;
  multiSessionId: string | null;
  /** Acct-Input-Gigawords × 2^32 + Acct-Input-Octets (exact below 2^53). */
  bytesIn: number;
  bytesOut: number;
  /** True when either Acct-*-Gigawords attribute was sent. */
  hasGigawords: boolean;
  packetsIn: number | null;
  packetsOut: number | null;
  sessionSeconds: number | null;
  delaySeconds: number | null;
  eventTime: Date | null;
  terminateCauseCode: number | null;
  terminateCause: string | null;
  chargingId: number | null;
}

export interface AccessRequestFields extends SubscriberFields {
  nasPortType: number | null;
  hasUserPassword: boolean;
  hasChapPassword: boolean;
  hasMessageAuthenticator: boolean;
}

function ipv4At(raw: Buffer, a: AttributeList, i: number): string | null {
  if (a.valueLength(i) !== 4) return null;
  const s = a.start(i);
  return `${raw[s]}.${raw[s + 1]}.${raw[s + 2]}.${raw[s + 3]}`;
}

function imeisvAt(raw: Buffer, a: AttributeList, i: number): string | null {
  const s = a.start(i);
  const e = a.end(i);
  if (s === e) return null;
  let ascii = true;
  for (let k = s; k < e; k++) {
    const c = raw[k]!;
    if (c < 0x30 || c > 0x39) {
      ascii = false;
      break;
    }
  }
  // NOTE: TS 29.061 sends the IMEISV as text; some gateways send the GTP TBCD octets instead.
  return ascii ? raw.toString('latin1', s, e) : decodeTbcd(raw.subarray(s, e));
}

function byteOrInt(a: AttributeList, i: number): number | null {
  const len = a.valueLength(i);
  if (len === 1) return a.raw[a.start(i)]!;
  return len === 4 ? a.uint32(i)! : null;
}

/** Fills the subscriber fields from attribute `i` when it is one of them (first occurrence wins); false otherwise. */
function readSubscriber(f: SubscriberFields, a: AttributeList, i: number): boolean {
  const raw = a.raw;
  const vendorId = a.vendorId(i);
  if (vendorId === 0) {
    switch (a.type(i)) {
      case Attr.UserName:
        f.userName ??= a.text(i);
        return true;
      case Attr.CallingStationId:
        f.msisdn ??= a.text(i);
        return true;
      case Attr.CalledStationId:
        f.apn ??= a.text(i);
        return true;
      case Attr.FramedIpAddress:
        f.framedIp ??= ipv4At(raw, a, i);
        return true;
      case Attr.NasIpAddress:
        f.nasIp ??= ipv4At(raw, a, i);
        return true;
      case Attr.NasIdentifier:
        f.nasIdentifier ??= a.text(i);
        return true;
      default:
        return false;
    }
  }
  if (vendorId !== VENDOR_3GPP) return false;
  switch (a.vendorType(i)) {
    case Attr3gpp.Imsi:
      f.imsi ??= a.text(i);
      return true;
    case Attr3gpp.ImeiSv:
      f.imeisv ??= imeisvAt(raw, a, i);
      return true;
    case Attr3gpp.RatType: {
      if (f.ratType !== null) return true;
      const v = byteOrInt(a, i);
      if (v === null) return true;
      f.ratType = v;
      const info = RAT_TYPES.get(v);
      f.ratName = info?.name ?? null;
      f.rat = info?.rat ?? null;
      return true;
    }
    case Attr3gpp.SgsnMccMnc:
      f.sgsnMccMnc ??= a.text(i);
      return true;
    case Attr3gpp.ImsiMccMnc:
      f.imsiMccMnc ??= a.text(i);
      return true;
    case Attr3gpp.GgsnMccMnc:
      f.ggsnMccMnc ??= a.text(i);
      return true;
    case Attr3gpp.UserLocationInfo:
      f.location ??= decodeUserLocationInfo(a.value(i));
      return true;
    case Attr3gpp.MsTimeZone:
      f.timeZone ??= decodeMsTimeZone(a.value(i));
      return true;
    default:
      return false;
  }
}

/** The fields of an Accounting-Request (RFC 2866, RFC 2869 gigawords, TS 29.061 3GPP attributes). */
export function readAccounting(packet: RadiusPacket): AccountingFields {
  const a = packet.attributes;
  // NOTE: one flat literal (no spread) keeps the object in V8's fast mode; spreading made this 30x slower.
  const f: AccountingFields = {
    userName: null,
    msisdn: null,
    apn: null,
    framedIp: null,
    nasIp: null,
    nasIdentifier: null,
    imsi: null,
    imeisv: null,
    ratType: null,
    ratName: null,
    rat: null,
    sgsnMccMnc: null,
    imsiMccMnc: null,
    ggsnMccMnc: null,
    location: null,
    timeZone: null,
    statusType: null,
    status: null,
    acctSessionId: null,
    multiSessionId: null,
    bytesIn: 0,
    bytesOut: 0,
    hasGigawords: false,
    packetsIn: null,
    packetsOut: null,
    sessionSeconds: null,
    delaySeconds: null,
    eventTime: null,
    terminateCauseCode: null,
    terminateCause: null,
    chargingId: null,
  };
  let inOctets = -1;
  let outOctets = -1;
  let inGiga = -1;
  let outGiga = -1;
  const n = a.count;
  for (let i = 0; i < n; i++) {
    if (readSubscriber(f, a, i)) continue;
    if (a.vendorId(i) === VENDOR_3GPP) {
      if (a.vendorType(i) === Attr3gpp.ChargingId) f.chargingId ??= a.uint32(i) ?? null;
      continue;
    }
    if (a.vendorId(i) !== 0) continue;
    switch (a.type(i)) {
      case Attr.AcctStatusType:
        if (f.statusType === null) {
          const v = a.uint32(i);
          if (v !== undefined) {
            f.statusType = v;
            f.status = STATUS[v] ?? null;
          }
        }
        break;
      case Attr.AcctSessionId:
        f.acctSessionId ??= a.text(i);
        break;
      case Attr.AcctMultiSessionId:
        f.multiSessionId ??= a.text(i);
        break;
      case Attr.AcctInputOctets:
        if (inOctets < 0) inOctets = a.uint32(i) ?? -1;
        break;
      case Attr.AcctOutputOctets:
        if (outOctets < 0) outOctets = a.uint32(i) ?? -1;
        break;
      case Attr.AcctInputGigawords:
        if (inGiga < 0) inGiga = a.uint32(i) ?? -1;
        break;
      case Attr.AcctOutputGigawords:
        if (outGiga < 0) outGiga = a.uint32(i) ?? -1;
        break;
      case Attr.AcctInputPackets:
        f.packetsIn ??= a.uint32(i) ?? null;
        break;
      case Attr.AcctOutputPackets:
        f.packetsOut ??= a.uint32(i) ?? null;
        break;
      case Attr.AcctSessionTime:
        f.sessionSeconds ??= a.uint32(i) ?? null;
        break;
      case Attr.AcctDelayTime:
        f.delaySeconds ??= a.uint32(i) ?? null;
        break;
      case Attr.EventTimestamp:
        if (f.eventTime === null) {
          const v = a.uint32(i);
          if (v !== undefined) f.eventTime = new Date(v * 1000);
        }
        break;
      case Attr.AcctTerminateCause:
        if (f.terminateCauseCode === null) {
          const v = a.uint32(i);
          if (v !== undefined) {
            f.terminateCauseCode = v;
            f.terminateCause = TERMINATE_CAUSES.get(v) ?? null;
          }
        }
        break;
    }
  }
  f.hasGigawords = inGiga >= 0 || outGiga >= 0;
  // NOTE: plain number math: gigawords × 2^32 + octets stays exact while the total is below 2^53 (8 PiB).
  f.bytesIn = Math.max(inGiga, 0) * 4294967296 + Math.max(inOctets, 0);
  f.bytesOut = Math.max(outGiga, 0) * 4294967296 + Math.max(outOctets, 0);
  return f;
}

/** The fields of an Access-Request (RFC 2865, TS 29.061 3GPP attributes). */
export function readAccessRequest(packet: RadiusPacket): AccessRequestFields {
  const a = packet.attributes;
  const f: AccessRequestFields = {
    userName: null,
    msisdn: null,
    apn: null,
    framedIp: null,
    nasIp: null,
    nasIdentifier: null,
    imsi: null,
    imeisv: null,
    ratType: null,
    ratName: null,
    rat: null,
    sgsnMccMnc: null,
    imsiMccMnc: null,
    ggsnMccMnc: null,
    location: null,
    timeZone: null,
    nasPortType: null,
    hasUserPassword: false,
    hasChapPassword: false,
    hasMessageAuthenticator: false,
  };
  const n = a.count;
  for (let i = 0; i < n; i++) {
    if (readSubscriber(f, a, i) || a.vendorId(i) !== 0) continue;
    switch (a.type(i)) {
      case Attr.NasPortType:
        f.nasPortType ??= a.uint32(i) ?? null;
        break;
      case Attr.UserPassword:
        f.hasUserPassword = true;
        break;
      case Attr.ChapPassword:
        f.hasChapPassword = true;
        break;
      case Attr.MessageAuthenticator:
        f.hasMessageAuthenticator = true;
        break;
    }
  }
  return f;
}

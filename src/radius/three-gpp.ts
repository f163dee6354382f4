/**
 * Decoders for 3GPP vendor attribute values (TS 29.061 16.4.7): User-Location-Info (location fields as in
 * TS 29.274 8.21 / TS 29.060 7.7.51, PLMN digits as in TS 24.008 10.5.1.3), MS-TimeZone (TS 24.008 10.5.3.8),
 * RAT type names (TS 29.274 8.17) and TBCD digits. Pure; they never throw on malformed input.
 */

export interface Plmn {
  readonly mcc: string;
  readonly mnc: string;
}

export type UserLocationType =
  | 'CGI'
  | 'SAI'
  | 'RAI'
  | 'TAI'
  | 'ECGI'
  | 'TAI+ECGI'
  | 'eNodeB-ID'
  | 'TAI+eNodeB-ID'
  | 'NCGI'
  | '5GS-TAI'
  | '5GS-TAI+NCGI'
  | 'unknown';

/** A decoded 3GPP-User-Location-Info. Area and cell codes are numbers (TAC, LAC, CI, ECI, NCI: at most 36 bits). */
export interface UserLocation {
  /** The Geographic Location Type octet. */
  readonly typeCode: number;
  readonly type: UserLocationType;
  /** PLMN of the most precise element present (the cell, else the area); null for an unknown type. */
  readonly mcc: string | null;
  readonly mnc: string | null;
  readonly cgi?: Plmn & { readonly lac: number; readonly ci: number };
  readonly sai?: Plmn & { readonly lac: number; readonly sac: number };
  readonly rai?: Plmn & { readonly lac: number; readonly rac: number };
  /** TAI (16-bit TAC) or 5GS TAI (24-bit TAC). */
  readonly tai?: Plmn & { readonly tac: number };
  readonly ecgi?: Plmn & { readonly eci: number };
  readonly enodeb?: Plmn & { readonly enodebId: number };
  readonly ncgi?: Plmn & { readonly nci: number };
  /** The location octets after the type, in hex (the only content for an unknown type). */
  readonly raw: string;
}

const plmnCache = new Map<number, Plmn | null>();

/** MCC and MNC from 3 octets of BCD digits (TS 24.008 10.5.1.3: MNC digit 3 = 0xF means a 2-digit MNC); null if not digits. */
export function decodePlmn(b: Uint8Array, at: number): Plmn | null {
  if (at + 3 > b.length) return null;
  const key = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
  let plmn = plmnCache.get(key);
  if (plmn === undefined) {
    // NOTE: a network sees few PLMNs; the cache is bounded anyway against garbage input.
    if (plmnCache.size >= 4096) plmnCache.clear();
    plmn = plmnOf(key >> 16, (key >> 8) & 0xff, key & 0xff);
    plmnCache.set(key, plmn);
  }
  return plmn;
}

function plmnOf(o1: number, o2: number, o3: number): Plmn | null {
  const mcc1 = o1 & 0x0f;
  const mcc2 = o1 >> 4;
  const mcc3 = o2 & 0x0f;
  const mnc3 = o2 >> 4;
  const mnc1 = o3 & 0x0f;
  const mnc2 = o3 >> 4;
  if (mcc1 > 9 || mcc2 > 9 || mcc3 > 9 || mnc1 > 9 || mnc2 > 9 || (mnc3 > 9 && mnc3 !== 0x0f)) return null;
  return Object.freeze({ mcc: `${mcc1}${mcc2}${mcc3}`, mnc: mnc3 === 0x0f ? `${mnc1}${mnc2}` : `${mnc1}${mnc2}${mnc3}` });
}

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const u24 = (b: Uint8Array, at: number): number => (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;

/** Length of the location octets after the type octet, per type; undefined for types not decoded. */
const NEEDED: Readonly<Record<number, number>> = { 0: 7, 1: 7, 2: 6, 128: 5, 129: 7, 130: 12, 131: 6, 132: 11, 135: 8, 136: 6, 137: 14 };

/** Decodes a 3GPP-User-Location-Info value; null when it is empty, too short for its type or has non-BCD PLMN digits. */
export function decodeUserLocationInfo(value: Uint8Array): UserLocation | null {
  if (value.length < 1) return null;
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
  const typeCode = b[0]!;
  const raw = b.toString('hex', 1);
  const needed = NEEDED[typeCode];
  if (needed === undefined) return { typeCode, type: 'unknown', mcc: null, mnc: null, raw };
  if (b.length - 1 < needed) return null;
  const p = decodePlmn(b, 1);
  if (p === null) return null;
  const { mcc, mnc } = p;
  switch (typeCode) {
    case 0:
      return { typeCode, type: 'CGI', mcc, mnc, cgi: { mcc, mnc, lac: u16(b, 4), ci: u16(b, 6) }, raw };
    case 1:
      return { typeCode, type: 'SAI', mcc, mnc, sai: { mcc, mnc, lac: u16(b, 4), sac: u16(b, 6) }, raw };
    case 2:
      // NOTE: the RAC is one octet; a second octet, when sent, is filler (0xFF) and is ignored.
      return { typeCode, type: 'RAI', mcc, mnc, rai: { mcc, mnc, lac: u16(b, 4), rac: b[6]! }, raw };
    case 128:
      return { typeCode, type: 'TAI', mcc, mnc, tai: { mcc, mnc, tac: u16(b, 4) }, raw };
    case 129:
      return { typeCode, type: 'ECGI', mcc, mnc, ecgi: { mcc, mnc, eci: eci(b, 4) }, raw };
    case 130: {
      const q = decodePlmn(b, 6);
      if (q === null) return null;
      const tai = { mcc, mnc, tac: u16(b, 4) };
      return { typeCode, type: 'TAI+ECGI', mcc: q.mcc, mnc: q.mnc, tai, ecgi: { mcc: q.mcc, mnc: q.mnc, eci: eci(b, 9) }, raw };
    }
    case 131:
      return { typeCode, type: 'eNodeB-ID', mcc, mnc, enodeb: { mcc, mnc, enodebId: u24(b, 4) & 0x0fffff }, raw };
    case 132: {
      const q = decodePlmn(b, 6);
      if (q === null) return null;
      const tai = { mcc, mnc, tac: u16(b, 4) };
      return { typeCode, type: 'TAI+eNodeB-ID', mcc: q.mcc, mnc: q.mnc, tai, enodeb: { mcc: q.mcc, mnc: q.mnc, enodebId: u24(b, 9) & 0x0fffff }, raw };
    }
    case 135:
      return { typeCode, type: 'NCGI', mcc, mnc, ncgi: { mcc, mnc, nci: nci(b, 4) }, raw };
    case 136:
      return { typeCode, type: '5GS-TAI', mcc, mnc, tai: { mcc, mnc, tac: u24(b, 4) }, raw };
    default: {
      // 137: 5GS TAI and NCGI
      const q = decodePlmn(b, 7);
      if (q === null) return null;
      const tai = { mcc, mnc, tac: u24(b, 4) };
      return { typeCode, type: '5GS-TAI+NCGI', mcc: q.mcc, mnc: q.mnc, tai, ncgi: { mcc: q.mcc, mnc: q.mnc, nci: nci(b, 10) }, raw };
    }
  }
}

/** E-UTRAN Cell Identity: 28 bits after 4 spare bits. */
function eci(b: Uint8Array, at: number): number {
  return (b[at]! & 0x0f) * 0x1000000 + u24(b, at + 1);
}

/** NR Cell Identity: 36 bits after 4 spare bits. */
function nci(b: Uint8Array, at: number): number {
  return (b[at]! & 0x0f) * 0x100000000 + (b[at + 1]! * 0x1000000 + u24(b, at + 2));
}

export interface MsTimeZone {
  /** Offset of local time from UTC in minutes (a multiple of 15), as sent; it includes any daylight saving. */
  readonly offsetMinutes: number;
  /** Daylight saving adjustment the offset includes, in hours (0, 1 or 2). */
  readonly dstHours: number;
}

/** Decodes 3GPP-MS-TimeZone (2 octets); null when malformed. */
export function decodeMsTimeZone(value: Uint8Array): MsTimeZone | null {
  if (value.length !== 2) return null;
  const tz = value[0]!;
  const tens = tz & 0x07;
  const units = tz >> 4;
  if (units > 9) return null;
  const quarters = tens * 10 + units;
  const dst = value[1]! & 0x03;
  if (dst === 3) return null;
  return { offsetMinutes: (tz & 0x08 ? -quarters : quarters) * 15, dstHours: dst };
}

/** Digits in TBCD (low nibble first, 0xF filler ends them), as GTP carries IMSI and IMEI(SV); null if not digits. */
export function decodeTbcd(value: Uint8Array): string | null {
  let s = '';
  for (let i = 0; i < value.length; i++) {
    const lo = value[i]! & 0x0f;
    const hi = value[i]! >> 4;
    if (lo > 9) return null;
    s += lo;
    if (hi === 0x0f && i === value.length - 1) break;
    if (hi > 9) return null;
    s += hi;
  }
  return s.length > 0 ? s : null;
}

export interface RatInfo {
  /** The TS 29.274 name: 'EUTRAN', 'EUTRAN-NB-IoT', 'NR' ... */
  readonly name: string;
  /** The short name operators use: '2G', '3G', '4G', '5G', 'NB-IoT', 'LTE-M', 'WLAN' ... */
  readonly rat: string;
}

/** 3GPP-RAT-Type values (TS 29.061 16.4.7.2, values of TS 29.274 table 8.17-1). */
export const RAT_TYPES: ReadonlyMap<number, RatInfo> = new Map<number, RatInfo>([
  [1, { name: 'UTRAN', rat: '3G' }],
  [2, { name: 'GERAN', rat: '2G' }],
  [3, { name: 'WLAN', rat: 'WLAN' }],
  [4, { name: 'GAN', rat: 'GAN' }],
  [5, { name: 'HSPA-Evolution', rat: '3G' }],
  [6, { name: 'EUTRAN', rat: '4G' }],
  [7, { name: 'Virtual', rat: 'Virtual' }],
  [8, { name: 'EUTRAN-NB-IoT', rat: 'NB-IoT' }],
  [9, { name: 'LTE-M', rat: 'LTE-M' }],
  [10, { name: 'NR', rat: '5G' }],
  [11, { name: 'WB-E-UTRAN(LEO)', rat: '4G' }],
  [12, { name: 'WB-E-UTRAN(MEO)', rat: '4G' }],
  [13, { name: 'WB-E-UTRAN(GEO)', rat: '4G' }],
  [14, { name: 'WB-E-UTRAN(OTHERSAT)', rat: '4G' }],
  [15, { name: 'EUTRAN-NB-IoT(LEO)', rat: 'NB-IoT' }],
  [16, { name: 'EUTRAN-NB-IoT(MEO)', rat: 'NB-IoT' }],
  [17, { name: 'EUTRAN-NB-IoT(GEO)', rat: 'NB-IoT' }],
  [18, { name: 'EUTRAN-NB-IoT(OTHERSAT)', rat: 'NB-IoT' }],
  [19, { name: 'LTE-M(LEO)', rat: 'LTE-M' }],
  [20, { name: 'LTE-M(MEO)', rat: 'LTE-M' }],
  [21, { name: 'LTE-M(GEO)', rat: 'LTE-M' }],
  [101, { name: 'IEEE-802.16e', rat: 'WiMAX' }],
  [102, { name: '3GPP2-eHRPD', rat: 'CDMA' }],
  [103, { name: '3GPP2-HRPD', rat: 'CDMA' }],
  [104, { name: '3GPP2-1xRTT', rat: 'CDMA' }],
  [105, { name: '3GPP2-UMB', rat: 'CDMA' }],
]);

/** SMS (短信) rules: alphabet choice, segmentation with concatenation headers, delivery receipts. Pure, no I/O. */

export type SmsEncoding = 'gsm7' | 'ucs2';

/** SMPP data_coding of each alphabet: 0 = SMSC default (GSM 03.38), 8 = UCS2 (UTF-16BE). */
export const DATA_CODING: Record<SmsEncoding, number> = { gsm7: 0x00, ucs2: 0x08 };

/** esm_class bits (SMPP 3.4 §5.2.12). */
export const ESM_UDHI = 0x40;
export const ESM_RECEIPT_MASK = 0x3c;
export const ESM_DELIVERY_RECEIPT = 0x04;

/** Most characters one SMS holds: single and per segment of a concatenated message. */
export const LIMITS: Record<SmsEncoding, { single: number; segment: number }> = {
  gsm7: { single: 160, segment: 153 },
  ucs2: { single: 70, segment: 67 },
};

/** Most segments a message may be split into (the concatenation header counts to 255; operators rarely take more than 10). */
export const MAX_SEGMENTS = 10;
/** Longest text that can fit: 10 GSM segments (UCS2 text fits 670 characters). */
export const MAX_TEXT_LENGTH = LIMITS.gsm7.segment * MAX_SEGMENTS;

// GSM 03.38 default alphabet, code point order, and its extension table (each reached with ESC 0x1B).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION: Record<string, number> = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };
const GSM_CODE = new Map<string, number>([...GSM_BASIC].map((c, i) => [c, i]));
GSM_CODE.delete('\u001b');

/** Septets `char` takes in the GSM 7-bit alphabet, or 0 when it is not in it. */
function gsmSeptets(char: string): number {
  if (GSM_CODE.has(char)) return 1;
  return char in GSM_EXTENSION ? 2 : 0;
}

/** GSM 7-bit when every character is in the default alphabet or its extension, UCS2 otherwise (Chinese text). */
export function chooseEncoding(text: string): SmsEncoding {
  for (const c of text) if (gsmSeptets(c) === 0) return 'ucs2';
  return 'gsm7';
}

/** One septet per octet (SMPP carries the default alphabet unpacked; the SMSC packs it for the air). */
function encodeGsm(text: string): Buffer {
  const out: number[] = [];
  for (const c of text) {
    const code = GSM_CODE.get(c);
    if (code !== undefined) out.push(code);
    else out.push(0x1b, GSM_EXTENSION[c]!);
  }
  return Buffer.from(out);
}

const encodeUcs2 = (text: string): Buffer => Buffer.from(text, 'utf16le').swap16();

/** Splits `text` into pieces of at most `limit` units without cutting an escape pair or a surrogate pair. */
function splitUnits(text: string, encoding: SmsEncoding, limit: number): string[] {
  const pieces: string[] = [];
  let current = '';
  let units = 0;
  for (const c of text) {
    const size = encoding === 'gsm7' ? gsmSeptets(c) : c.length;
    if (units + size > limit) {
      pieces.push(current);
      current = '';
      units = 0;
    }
    current += c;
    units += size;
  }
  if (current || pieces.length === 0) pieces.push(current);
  return pieces;
}

export interface SmsSegment {
  /** The short_message octets: the concatenation header (when split) followed by the encoded text. */
  shortMessage: Buffer;
  text: string;
}

export interface EncodedSms {
  encoding: SmsEncoding;
  dataCoding: number;
  /** esm_class for every segment: UDHI set when the message is split. */
  esmClass: number;
  segments: SmsSegment[];
}

/** Characters of `text` in its alphabet's units (septets for GSM, UTF-16 units for UCS2). */
export function smsLength(text: string, encoding: SmsEncoding = chooseEncoding(text)): number {
  let n = 0;
  for (const c of text) n += encoding === 'gsm7' ? gsmSeptets(c) : c.length;
  return n;
}

/** Segments needed for `text`: one when it fits a single SMS, else pieces of 153 septets or 67 UCS2 characters. */
export function segmentCount(text: string): number {
  const encoding = chooseEncoding(text);
  const { single, segment } = LIMITS[encoding];
  return smsLength(text, encoding) <= single ? 1 : splitUnits(text, encoding, segment).length;
}

/**
 * Encodes `text` for submit_sm: one segment when it fits, else segments each starting with the 8-bit reference
 * concatenation header (IEI 0x00: reference, total, sequence; 3GPP TS 23.040 §9.2.3.24.1).
 */
export function encodeSms(text: string, reference: number): EncodedSms {
  const encoding = chooseEncoding(text);
  const encode = encoding === 'gsm7' ? encodeGsm : encodeUcs2;
  const { single, segment } = LIMITS[encoding];
  const base = { encoding, dataCoding: DATA_CODING[encoding] };
  if (smsLength(text, encoding) <= single) return { ...base, esmClass: 0, segments: [{ shortMessage: encode(text), text }] };
  const pieces = splitUnits(text, encoding, segment);
  const ref = reference & 0xff;
  return {
    ...base,
    esmClass: ESM_UDHI,
    segments: pieces.map((piece, i) => ({
      text: piece,
      shortMessage: Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, pieces.length, i + 1]), encode(piece)]),
    })),
  };
}

export interface Concatenation {
  ref: number;
  total: number;
  seq: number;
}

/** The concatenation header among the information elements of a UDH (8-bit IEI 0x00 or 16-bit IEI 0x08), if any. */
export function concatenationOf(elements: Buffer[]): Concatenation | undefined {
  for (const e of elements) {
    if (e[0] === 0x00 && e.length >= 5) return { ref: e[2]!, total: e[3]!, seq: e[4]! };
    if (e[0] === 0x08 && e.length >= 6) return { ref: e.readUInt16BE(2), total: e[4]!, seq: e[5]! };
  }
  return undefined;
}

/** Status of an MT message: queued until submitted, then as the receipts say; `failed` when it could not be submitted. */
export const MT_STATUSES = ['queued', 'sent', 'delivered', 'undeliverable', 'expired', 'rejected', 'deleted', 'unknown', 'failed'] as const;
export type MtStatus = (typeof MT_STATUSES)[number];
/** An MO message is `received` once stored. */
export const MO_STATUS = 'received';
export const SMS_STATUSES = [...MT_STATUSES, MO_STATUS] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];

const FINAL_FAILURES: readonly MtStatus[] = ['undeliverable', 'expired', 'rejected', 'deleted', 'unknown'];

// message_state values (SMPP 3.4 §5.2.28) and the stat: words of the receipt text (Appendix B).
const BY_STATE: Record<number, MtStatus> = { 1: 'sent', 2: 'delivered', 3: 'expired', 4: 'deleted', 5: 'undeliverable', 6: 'sent', 7: 'unknown', 8: 'rejected' };
const BY_STAT: Record<string, MtStatus> = {
  ENROUTE: 'sent',
  DELIVRD: 'delivered',
  EXPIRED: 'expired',
  DELETED: 'deleted',
  UNDELIV: 'undeliverable',
  ACCEPTD: 'sent',
  UNKNOWN: 'unknown',
  REJECTD: 'rejected',
};

export interface DeliveryReceipt {
  messageId: string;
  status: MtStatus;
  /** The network's error code from `err:`, when the receipt carries one. */
  errorCode?: string;
}

/** Reads a delivery receipt: the receipted_message_id and message_state TLVs when present, else the text (`id:… stat:… err:…`). */
export function parseDeliveryReceipt(text: string, tlv: { receiptedMessageId?: string; messageState?: number }): DeliveryReceipt | undefined {
  const id = tlv.receiptedMessageId ?? /\bid:(\S+)/i.exec(text)?.[1];
  const stat = /\bstat:(\w+)/i.exec(text)?.[1]?.toUpperCase();
  const status = (tlv.messageState !== undefined ? BY_STATE[tlv.messageState] : undefined) ?? (stat ? BY_STAT[stat] : undefined);
  if (!id || !status) return undefined;
  const err = /\berr:(\w+)/i.exec(text)?.[1];
  return { messageId: id, status, ...(err && !/^0+$/.test(err) ? { errorCode: err } : {}) };
}

/** The status of a message from the statuses of its segments: a final failure of any wins, delivered once all are. */
export function combinedStatus(segmentStatuses: string[]): MtStatus {
  const failure = FINAL_FAILURES.find((f) => segmentStatuses.includes(f));
  if (failure) return failure;
  return segmentStatuses.length > 0 && segmentStatuses.every((s) => s === 'delivered') ? 'delivered' : 'sent';
}

/** True for a status after which nothing changes. */
export const isFinalMt = (status: string): boolean => status === 'delivered' || status === 'failed' || (FINAL_FAILURES as readonly string[]).includes(status);

/** An MSISDN as SMPP carries it with TON international: digits only, country code first (a leading + is dropped). */
export function normalizeMsisdn(value: string): string | undefined {
  const digits = value.trim().replace(/^\+/, '');
  return /^\d{6,15}$/.test(digits) ? digits : undefined;
}

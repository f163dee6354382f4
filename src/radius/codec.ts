/**
 * RADIUS packet codec on Buffer (RFC 2865, 2866, 2869, 3579, 5176): decoding, encoding, authenticators,
 * Message-Authenticator and User-Password hiding. Pure and synchronous; no I/O.
 */
import { hash, randomFillSync } from 'node:crypto';
import {
  Attr,
  Code,
  DEFAULT_VENDOR_FORMATS,
  STANDARD_VENDOR_FORMAT,
  type AttributeValue,
  type OutgoingAttribute,
  type VendorFormat,
} from './attributes.ts';

export const HEADER_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
const AUTH_LENGTH = 16;

/** Why a datagram is not a RADIUS packet. */
export type DecodeFailure = 'too_short' | 'bad_length' | 'truncated_attribute' | 'attribute_length' | 'bad_vsa';

/** The only error `decodePacket` throws; `reason` is short and machine-readable (for drop counters). */
export class RadiusDecodeError extends Error {
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'RadiusDecodeError';
  }
}

/** A decoded attribute: `vendorId` 0 for a standard one; for a vendor sub-attribute `type` is 26. */
export interface RadiusAttribute {
  readonly type: number;
  readonly vendorId: number;
  /** The vendor's sub-attribute type; 0 for a standard attribute, -1 for vendor data kept undecoded. */
  readonly vendorType: number;
  readonly value: Buffer;
}

const STRIDE = 5;

/**
 * The attributes of one packet, in wire order, as offsets into the packet: nothing is copied or allocated per
 * attribute until a value is asked for. Vendor-Specific attributes appear as their sub-attributes.
 */
export class AttributeList implements Iterable<RadiusAttribute> {
  /** @param entries `STRIDE` numbers per attribute: type, vendorId, vendorType, value start, value end. */
  constructor(
    readonly raw: Buffer,
    private readonly entries: readonly number[],
  ) {}

  get count(): number {
    return this.entries.length / STRIDE;
  }

  type(i: number): number {
    return this.entries[i * STRIDE]!;
  }

  vendorId(i: number): number {
    return this.entries[i * STRIDE + 1]!;
  }

  vendorType(i: number): number {
    return this.entries[i * STRIDE + 2]!;
  }

  /** Offset of the value's first octet in `raw`. */
  start(i: number): number {
    return this.entries[i * STRIDE + 3]!;
  }

  /** Offset just past the value's last octet in `raw`. */
  end(i: number): number {
    return this.entries[i * STRIDE + 4]!;
  }

  valueLength(i: number): number {
    return this.entries[i * STRIDE + 4]! - this.entries[i * STRIDE + 3]!;
  }

  /** The value as a view on the packet (not a copy). */
  value(i: number): Buffer {
    return this.raw.subarray(this.entries[i * STRIDE + 3], this.entries[i * STRIDE + 4]);
  }

  /** The value as UTF-8 text. */
  text(i: number): string {
    return this.raw.toString('utf8', this.entries[i * STRIDE + 3], this.entries[i * STRIDE + 4]);
  }

  /** The value as a 32-bit unsigned integer; undefined unless it is exactly 4 octets. */
  uint32(i: number): number | undefined {
    const s = this.entries[i * STRIDE + 3]!;
    if (this.entries[i * STRIDE + 4]! - s !== 4) return undefined;
    const r = this.raw;
    return r[s]! * 0x1000000 + ((r[s + 1]! << 16) | (r[s + 2]! << 8) | r[s + 3]!);
  }

  /** Index of the first standard attribute of `type`, or -1. */
  find(type: number, from = 0): number {
    const e = this.entries;
    for (let k = from * STRIDE; k < e.length; k += STRIDE) if (e[k] === type && e[k + 1] === 0) return k / STRIDE;
    return -1;
  }

  /** Index of the first vendor sub-attribute (`vendorId`, `vendorType`), or -1. */
  findVendor(vendorId: number, vendorType: number, from = 0): number {
    const e = this.entries;
    for (let k = from * STRIDE; k < e.length; k += STRIDE) if (e[k + 1] === vendorId && e[k + 2] === vendorType) return k / STRIDE;
    return -1;
  }

  get(type: number): Buffer | undefined {
    const i = this.find(type);
    return i < 0 ? undefined : this.value(i);
  }

  getText(type: number): string | undefined {
    const i = this.find(type);
    return i < 0 ? undefined : this.text(i);
  }

  getUint32(type: number): number | undefined {
    const i = this.find(type);
    return i < 0 ? undefined : this.uint32(i);
  }

  getVendor(vendorId: number, vendorType: number): Buffer | undefined {
    const i = this.findVendor(vendorId, vendorType);
    return i < 0 ? undefined : this.value(i);
  }

  at(i: number): RadiusAttribute {
    return { type: this.type(i), vendorId: this.vendorId(i), vendorType: this.vendorType(i), value: this.value(i) };
  }

  *[Symbol.iterator](): Iterator<RadiusAttribute> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  toArray(): RadiusAttribute[] {
    return Array.from(this);
  }
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  /** A view on octets 4..20 of `raw`. */
  readonly authenticator: Buffer;
  readonly attributes: AttributeList;
  /** The packet's octets (the datagram cut to the header's Length; trailing padding is ignored per RFC 2865). */
  readonly raw: Buffer;
}

/** Another name for a decoded packet. */
export type DecodedPacket = RadiusPacket;

export interface DecodeOptions {
  /** Sub-attribute layouts by vendor; vendors not listed use the 1,1 layout. Defaults to `DEFAULT_VENDOR_FORMATS`. */
  readonly vendorFormats?: ReadonlyMap<number, VendorFormat>;
}

const fail = (reason: DecodeFailure, message: string): RadiusDecodeError => new RadiusDecodeError(reason, message);

/** Decodes one datagram; throws only `RadiusDecodeError`. */
export function decodePacket(buf: Buffer, options?: DecodeOptions): RadiusPacket {
  if (buf.length < HEADER_LENGTH) throw fail('too_short', `datagram of ${buf.length} octets is shorter than a RADIUS header`);
  const length = (buf[2]! << 8) | buf[3]!;
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH || length > buf.length) {
    throw fail('bad_length', `header length ${length} does not fit a datagram of ${buf.length} octets`);
  }
  const raw = length === buf.length ? buf : buf.subarray(0, length);
  const formats = options?.vendorFormats ?? DEFAULT_VENDOR_FORMATS;
  const entries: number[] = [];
  let p = HEADER_LENGTH;
  while (p < length) {
    if (p + 2 > length) throw fail('truncated_attribute', `attribute header at ${p} runs past the packet`);
    const type = raw[p]!;
    const len = raw[p + 1]!;
    if (len < 2) throw fail('attribute_length', `attribute ${type} at ${p} has length ${len}`);
    const end = p + len;
    if (end > length) throw fail('truncated_attribute', `attribute ${type} at ${p} runs past the packet`);
    if (type === Attr.VendorSpecific) {
      decodeVendorSpecific(raw, p + 2, end, entries, formats);
    } else {
      if (type === Attr.MessageAuthenticator && len !== 18) throw fail('attribute_length', `Message-Authenticator has length ${len}`);
      entries.push(type, 0, 0, p + 2, end);
    }
    p = end;
  }
  return {
    code: raw[0]!,
    identifier: raw[1]!,
    authenticator: raw.subarray(4, HEADER_LENGTH),
    attributes: new AttributeList(raw, entries),
    raw,
  };
}

function readUint(raw: Buffer, at: number, octets: number): number {
  if (octets === 1) return raw[at]!;
  if (octets === 2) return (raw[at]! << 8) | raw[at + 1]!;
  return raw[at]! * 0x1000000 + ((raw[at + 1]! << 16) | (raw[at + 2]! << 8) | raw[at + 3]!);
}

function decodeVendorSpecific(
  raw: Buffer,
  start: number,
  end: number,
  entries: number[],
  formats: ReadonlyMap<number, VendorFormat>,
): void {
  if (end - start < 5) throw fail('bad_vsa', `Vendor-Specific attribute at ${start - 2} is too short`);
  const vendorId = readUint(raw, start, 4);
  // NOTE: vendor id 0 is not a vendor; such an attribute is kept whole as an unknown standard attribute.
  if (vendorId === 0) {
    entries.push(Attr.VendorSpecific, 0, 0, start, end);
    return;
  }
  const format = formats.get(vendorId) ?? STANDARD_VENDOR_FORMAT;
  let q = start + 4;
  if (format === 'opaque') {
    entries.push(Attr.VendorSpecific, vendorId, -1, q, end);
    return;
  }
  const t = format.typeOctets;
  const l = format.lengthOctets;
  if (l === 0) {
    if (end - q < t) throw fail('bad_vsa', `vendor ${vendorId} attribute is shorter than its type`);
    entries.push(Attr.VendorSpecific, vendorId, readUint(raw, q, t), q + t, end);
    return;
  }
  while (q < end) {
    if (q + t + l > end) throw fail('bad_vsa', `vendor ${vendorId} sub-attribute header at ${q} runs past its attribute`);
    const subLength = readUint(raw, q + t, l);
    if (subLength < t + l || q + subLength > end) {
      throw fail('bad_vsa', `vendor ${vendorId} sub-attribute at ${q} has length ${subLength}`);
    }
    entries.push(Attr.VendorSpecific, vendorId, readUint(raw, q, t), q + t + l, q + subLength);
    q += subLength;
  }
}

// ---- secrets, scratch space, MD5 and HMAC-MD5 --------------------------------------------------------------------

export type Secret = string | Buffer;

const secretCache = new Map<string, Buffer>();

function secretBytes(secret: Secret): Buffer {
  if (typeof secret !== 'string') return secret;
  let b = secretCache.get(secret);
  if (b === undefined) {
    if (secretCache.size >= 256) secretCache.clear();
    b = Buffer.from(secret, 'utf8');
    secretCache.set(secret, b);
  }
  return b;
}

// NOTE: one scratch area per process is safe because every function here is synchronous.
const HMAC_BLOCK = 64;
let scratch = Buffer.allocUnsafeSlow(HMAC_BLOCK + MAX_PACKET_LENGTH + 256);
const outerScratch = Buffer.allocUnsafeSlow(HMAC_BLOCK + AUTH_LENGTH);
const ZERO_AUTH = Buffer.alloc(AUTH_LENGTH);

function scratchFor(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
  return scratch;
}

/**
 * MD5(packet octets with `vector` in place of the authenticator, then the secret): the Request Authenticator of
 * accounting and dynamic-authorization requests (vector = zeros) and the Response Authenticator (vector = the request's).
 */
function packetDigest(packet: Buffer, length: number, vector: Buffer, secret: Buffer): Buffer {
  const s = scratchFor(length + secret.length);
  packet.copy(s, 0, 0, 4);
  vector.copy(s, 4, 0, AUTH_LENGTH);
  packet.copy(s, HEADER_LENGTH, HEADER_LENGTH, length);
  secret.copy(s, length);
  return hash('md5', s.subarray(0, length + secret.length), 'buffer');
}

/** HMAC-MD5 (RFC 2104) keyed with `secret` over `packet[0..length)`, with `vector` (or the packet's own) as authenticator and the Message-Authenticator value at `maOffset` zeroed. */
function messageAuthenticatorOf(packet: Buffer, length: number, maOffset: number, vector: Buffer | null, secret: Buffer): Buffer {
  const key = secret.length > HMAC_BLOCK ? hash('md5', secret, 'buffer') : secret;
  const s = scratchFor(HMAC_BLOCK + length);
  for (let i = 0; i < HMAC_BLOCK; i++) {
    const k = i < key.length ? key[i]! : 0;
    s[i] = k ^ 0x36;
    outerScratch[i] = k ^ 0x5c;
  }
  packet.copy(s, HMAC_BLOCK, 0, length);
  if (vector !== null) vector.copy(s, HMAC_BLOCK + 4, 0, AUTH_LENGTH);
  s.fill(0, HMAC_BLOCK + maOffset, HMAC_BLOCK + maOffset + AUTH_LENGTH);
  const inner = hash('md5', s.subarray(0, HMAC_BLOCK + length), 'buffer');
  inner.copy(outerScratch, HMAC_BLOCK);
  return hash('md5', outerScratch, 'buffer');
}

/** Constant-time comparison of 16 octets of `a` at `offset` with `b`. */
function equal16(a: Buffer, offset: number, b: Buffer): boolean {
  let diff = 0;
  for (let i = 0; i < AUTH_LENGTH; i++) diff |= a[offset + i]! ^ b[i]!;
  return diff === 0;
}

function headerLength(raw: Buffer): number {
  if (raw.length < HEADER_LENGTH) return -1;
  const length = (raw[2]! << 8) | raw[3]!;
  return length < HEADER_LENGTH || length > raw.length ? -1 : length;
}

// ---- authenticators ----------------------------------------------------------------------------------------------

/** Checks the Request Authenticator of an Accounting-Request, Disconnect-Request or CoA-Request (RFC 2866 3, RFC 5176 2.3). */
export function verifyRequestAuthenticator(raw: Buffer, secret: Secret): boolean {
  const length = headerLength(raw);
  if (length < 0) return false;
  return equal16(raw, 4, packetDigest(raw, length, ZERO_AUTH, secretBytes(secret)));
}

/** The Response Authenticator for a reply packet `raw` (its own authenticator octets are ignored). */
export function responseAuthenticator(raw: Buffer, requestAuthenticator: Buffer, secret: Secret): Buffer {
  const length = headerLength(raw);
  if (length < 0) throw new RangeError('not a RADIUS packet');
  return packetDigest(raw, length, requestAuthenticator, secretBytes(secret));
}

/** Checks a reply's Response Authenticator against the request it answers. */
export function verifyResponseAuthenticator(raw: Buffer, requestAuthenticator: Buffer, secret: Secret): boolean {
  const length = headerLength(raw);
  if (length < 0) return false;
  return equal16(raw, 4, packetDigest(raw, length, requestAuthenticator, secretBytes(secret)));
}

const isReply = (code: number): boolean =>
  code === Code.AccessAccept ||
  code === Code.AccessReject ||
  code === Code.AccessChallenge ||
  code === Code.AccountingResponse ||
  code === Code.DisconnectAck ||
  code === Code.DisconnectNak ||
  code === Code.CoaAck ||
  code === Code.CoaNak;

/**
 * Packets whose Message-Authenticator is computed over a zero authenticator: the requests signed like accounting
 * (RFC 5176 3.3) and, as FreeRADIUS does it, the Accounting-Response.
 */
const signsWithZeroVector = (code: number): boolean =>
  code === Code.AccountingRequest || code === Code.DisconnectRequest || code === Code.CoaRequest || code === Code.AccountingResponse;

/** Offset of the first Message-Authenticator value in a raw packet; -1 when absent, -2 when the packet is malformed. */
function findMessageAuthenticator(raw: Buffer, length: number): number {
  let p = HEADER_LENGTH;
  while (p + 2 <= length) {
    const len = raw[p + 1]!;
    if (len < 2 || p + len > length) return -2;
    if (raw[p] === Attr.MessageAuthenticator) return len === 18 ? p + 2 : -2;
    p += len;
  }
  return p === length ? -1 : -2;
}

/**
 * Checks the Message-Authenticator (attribute 80, RFC 3579 3.2 / RFC 5176 3.3) of a decoded or raw packet: true when
 * valid, false when invalid (or the packet is malformed), undefined when there is none, which the caller may refuse.
 * Replies need the authenticator of the request they answer.
 */
export function verifyMessageAuthenticator(packet: RadiusPacket | Buffer, secret: Secret, requestAuthenticator?: Buffer): boolean | undefined {
  let raw: Buffer;
  let offset: number;
  if (Buffer.isBuffer(packet)) {
    raw = packet;
    const length = headerLength(raw);
    if (length < 0) return false;
    if (length < raw.length) raw = raw.subarray(0, length);
    offset = findMessageAuthenticator(raw, length);
    if (offset === -2) return false;
  } else {
    raw = packet.raw;
    const i = packet.attributes.find(Attr.MessageAuthenticator);
    offset = i < 0 ? -1 : packet.attributes.start(i);
  }
  if (offset === -1) return undefined;
  const code = raw[0]!;
  let vector: Buffer | null = null;
  if (signsWithZeroVector(code)) vector = ZERO_AUTH;
  else if (isReply(code)) {
    if (requestAuthenticator === undefined) return false;
    vector = requestAuthenticator;
  }
  return equal16(raw, offset, messageAuthenticatorOf(raw, raw.length, offset, vector, secretBytes(secret)));
}

// ---- User-Password (RFC 2865 5.2) ---------------------------------------------------------------------------------

/** Hides a password (at most 128 octets) for the User-Password attribute. */
export function hidePassword(password: Uint8Array | string, secret: Secret, authenticator: Buffer): Buffer {
  const p = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (p.length > 128) throw new RangeError('User-Password is longer than 128 octets');
  const out = Buffer.alloc(Math.max(16, Math.ceil(p.length / 16) * 16));
  out.set(p);
  xorChain(out, secretBytes(secret), authenticator, true);
  return out;
}

/** Recovers a hidden User-Password (trailing NUL padding removed). */
export function revealPassword(hidden: Buffer, secret: Secret, authenticator: Buffer): Buffer {
  const out = Buffer.from(hidden);
  xorChain(out, secretBytes(secret), authenticator, false);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

function xorChain(data: Buffer, secret: Buffer, authenticator: Buffer, hiding: boolean): void {
  const input = Buffer.allocUnsafe(secret.length + AUTH_LENGTH);
  secret.copy(input, 0);
  authenticator.copy(input, secret.length, 0, AUTH_LENGTH);
  for (let block = 0; block + AUTH_LENGTH <= data.length; block += AUTH_LENGTH) {
    const b = hash('md5', input, 'buffer');
    // the next block's hash input is the previous ciphertext block
    if (!hiding) data.copy(input, secret.length, block, block + AUTH_LENGTH);
    for (let i = 0; i < AUTH_LENGTH; i++) data[block + i]! ^= b[i]!;
    if (hiding) data.copy(input, secret.length, block, block + AUTH_LENGTH);
  }
}

/** The User-Password of an Access-Request, revealed as UTF-8; undefined when absent or malformed. */
export function readUserPassword(packet: RadiusPacket, secret: Secret): string | undefined {
  const i = packet.attributes.find(Attr.UserPassword);
  if (i < 0) return undefined;
  const len = packet.attributes.valueLength(i);
  if (len < 16 || len > 128 || len % 16 !== 0) return undefined;
  return revealPassword(packet.attributes.value(i), secret, packet.authenticator).toString('utf8');
}

// ---- encoding ----------------------------------------------------------------------------------------------------

const out = Buffer.allocUnsafeSlow(MAX_PACKET_LENGTH);

function valueLength(v: AttributeValue): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number') return 4;
  return v.length;
}

function writeValue(buf: Buffer, pos: number, v: AttributeValue, length: number): void {
  if (typeof v === 'string') buf.write(v, pos, length, 'utf8');
  else if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`integer attribute value out of range: ${v}`);
    buf.writeUInt32BE(v, pos);
  } else buf.set(v, pos);
}

function checkByte(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new RangeError(`${what} must be 1..255, got ${n}`);
  return n;
}

/** Writes one attribute at `pos`; returns the position after it. */
function writeAttribute(buf: Buffer, pos: number, a: OutgoingAttribute): number {
  const len = valueLength(a.value);
  const vendorId = a.vendorId ?? 0;
  if (vendorId !== 0) {
    if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffffffff) throw new RangeError(`bad vendor id ${vendorId}`);
    const raw = a.vendorType === -1;
    const total = 6 + (raw ? 0 : 2) + len;
    if (total > 255) throw new RangeError(`vendor ${vendorId} attribute ${a.vendorType} value of ${len} octets is too long`);
    if (pos + total > buf.length) throw new RangeError('packet would exceed 4096 octets');
    buf[pos] = Attr.VendorSpecific;
    buf[pos + 1] = total;
    buf.writeUInt32BE(vendorId, pos + 2);
    if (raw) {
      writeValue(buf, pos + 6, a.value, len);
    } else {
      const vendorType = a.vendorType ?? 0;
      if (!Number.isInteger(vendorType) || vendorType < 0 || vendorType > 255) throw new RangeError(`bad vendor type ${vendorType}`);
      buf[pos + 6] = vendorType;
      buf[pos + 7] = len + 2;
      writeValue(buf, pos + 8, a.value, len);
    }
    return pos + total;
  }
  const type = checkByte(a.type ?? 0, 'attribute type');
  if (len > 253) throw new RangeError(`attribute ${type} value of ${len} octets is too long`);
  if (pos + 2 + len > buf.length) throw new RangeError('packet would exceed 4096 octets');
  buf[pos] = type;
  buf[pos + 1] = len + 2;
  writeValue(buf, pos + 2, a.value, len);
  return pos + 2 + len;
}

/**
 * Lays out a packet in the shared output area: header, an optional zeroed Message-Authenticator first (as
 * recommended since the Blast-RADIUS attack), then `attributes` and `extra`. Returns the length.
 */
function layout(
  code: number,
  identifier: number,
  authenticator: Buffer | null,
  withMessageAuthenticator: boolean,
  attributes: readonly OutgoingAttribute[],
  extra?: OutgoingAttribute,
  request?: Partial<Pick<RadiusPacket, 'attributes'>>,
): number {
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`bad code ${code}`);
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) throw new RangeError(`bad identifier ${identifier}`);
  out[0] = code;
  out[1] = identifier;
  if (authenticator === null) out.fill(0, 4, HEADER_LENGTH);
  else authenticator.copy(out, 4, 0, AUTH_LENGTH);
  let pos = HEADER_LENGTH;
  if (withMessageAuthenticator) {
    out[pos] = Attr.MessageAuthenticator;
    out[pos + 1] = 18;
    out.fill(0, pos + 2, pos + 18);
    pos += 18;
  }
  for (const a of attributes) pos = writeAttribute(out, pos, a);
  if (extra !== undefined) pos = writeAttribute(out, pos, extra);
  const from = request?.attributes;
  if (from !== undefined) {
    // RFC 2865 5.33: a reply carries the request's Proxy-State attributes unmodified and in order.
    for (let i = from.find(Attr.ProxyState); i >= 0; i = from.find(Attr.ProxyState, i + 1)) {
      const len = from.valueLength(i);
      if (pos + 2 + len > MAX_PACKET_LENGTH) throw new RangeError('packet would exceed 4096 octets');
      out[pos] = Attr.ProxyState;
      out[pos + 1] = len + 2;
      from.raw.copy(out, pos + 2, from.start(i), from.end(i));
      pos += 2 + len;
    }
  }
  out.writeUInt16BE(pos, 2);
  return pos;
}

const MA_OFFSET = HEADER_LENGTH + 2;

function finish(length: number): Buffer {
  const packet = Buffer.allocUnsafe(length);
  out.copy(packet, 0, 0, length);
  return packet;
}

export interface EncodePacketInput {
  readonly code: number;
  readonly identifier: number;
  /** 16 octets; zeros when left out. */
  readonly authenticator?: Buffer;
  readonly attributes: readonly OutgoingAttribute[];
}

/** Encodes a packet exactly as given: no authenticator or Message-Authenticator is computed. */
export function encodePacket(input: EncodePacketInput): Buffer {
  return finish(layout(input.code, input.identifier, input.authenticator ?? null, false, input.attributes));
}

/**
 * Encodes an Accounting-Request, Disconnect-Request or CoA-Request with its Request Authenticator (MD5 over the packet
 * with a zero authenticator, then the secret). With `messageAuthenticator` a Message-Authenticator is added first.
 */
export function encodeRequest(
  code: number,
  identifier: number,
  attributes: readonly OutgoingAttribute[],
  secret: Secret,
  options: { messageAuthenticator?: boolean } = {},
): Buffer {
  const key = secretBytes(secret);
  const withMa = options.messageAuthenticator === true;
  const length = layout(code, identifier, null, withMa, attributes);
  if (withMa) messageAuthenticatorOf(out, length, MA_OFFSET, null, key).copy(out, MA_OFFSET);
  packetDigest(out, length, ZERO_AUTH, key).copy(out, 4);
  return finish(length);
}

/**
 * Encodes an Access-Request: random Request Authenticator (unless given), Message-Authenticator first, and the
 * User-Password hidden per RFC 2865 5.2 when `password` is given.
 */
export function encodeAccessRequest(
  identifier: number,
  attributes: readonly OutgoingAttribute[],
  secret: Secret,
  options: { password?: Uint8Array | string; authenticator?: Buffer } = {},
): Buffer {
  const key = secretBytes(secret);
  const authenticator = options.authenticator ?? randomFillSync(Buffer.allocUnsafe(AUTH_LENGTH));
  const password =
    options.password === undefined ? undefined : { type: Attr.UserPassword, value: hidePassword(options.password, key, authenticator) };
  const length = layout(Code.AccessRequest, identifier, authenticator, true, attributes, password);
  messageAuthenticatorOf(out, length, MA_OFFSET, null, key).copy(out, MA_OFFSET);
  return finish(length);
}

const needsMessageAuthenticator = (code: number): boolean =>
  code === Code.AccessAccept || code === Code.AccessReject || code === Code.AccessChallenge;

/**
 * Encodes the reply to `request` with its Response Authenticator. Access-Accept, -Reject and -Challenge carry a
 * Message-Authenticator (first) unless `messageAuthenticator` is false; other replies only when it is true. The
 * request's Proxy-State attributes, when it is a decoded packet, are copied to the end.
 */
export function encodeReply(
  request: Pick<RadiusPacket, 'identifier' | 'authenticator'> & Partial<Pick<RadiusPacket, 'attributes'>>,
  code: number,
  attributes: readonly OutgoingAttribute[],
  secret: Secret,
  options: { messageAuthenticator?: boolean } = {},
): Buffer {
  const key = secretBytes(secret);
  const withMa = options.messageAuthenticator ?? needsMessageAuthenticator(code);
  const length = layout(code, request.identifier, request.authenticator, withMa, attributes, undefined, request);
  if (withMa) messageAuthenticatorOf(out, length, MA_OFFSET, signsWithZeroVector(code) ? ZERO_AUTH : null, key).copy(out, MA_OFFSET);
  packetDigest(out, length, request.authenticator, key).copy(out, 4);
  return finish(length);
}

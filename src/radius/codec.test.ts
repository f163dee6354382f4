import { createHash, createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Attr, Attr3gpp, attr, attr3gpp, Code, ErrorCause, ipv4Value, uint8Value, vendorAttr, VENDOR_3GPP } from './attributes.ts';
import {
  decodePacket,
  encodeAccessRequest,
  encodePacket,
  encodeReply,
  encodeRequest,
  hidePassword,
  RadiusDecodeError,
  readUserPassword,
  responseAuthenticator,
  revealPassword,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
  verifyResponseAuthenticator,
} from './codec.ts';

const SECRET = 'testing123';
const md5 = (...parts: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(parts)).digest();
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The RFC 2865 7.1 example: secret "xyzzy5461", User-Password "arctangent". */
const RFC2865_REQUEST = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a
  01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03`);
const RFC2865_ACCEPT = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2
  06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);

function expectDecodeError(buf: Buffer, reason: string): void {
  try {
    decodePacket(buf);
  } catch (e) {
    expect(e).toBeInstanceOf(RadiusDecodeError);
    expect((e as RadiusDecodeError).reason).toBe(reason);
    return;
  }
  throw new Error(`decoded without error, expected ${reason}`);
}

describe('decodePacket', () => {
  it('decodes the RFC 2865 example Access-Request', () => {
    const p = decodePacket(RFC2865_REQUEST);
    expect(p.code).toBe(Code.AccessRequest);
    expect(p.identifier).toBe(0);
    expect(p.authenticator.toString('hex')).toBe('0f403f9473978057bd83d5cb98f4227a');
    expect(p.attributes.count).toBe(4);
    expect(p.attributes.getText(Attr.UserName)).toBe('nemo');
    expect(p.attributes.getUint32(Attr.NasPort)).toBe(3);
    expect(readUserPassword(p, 'xyzzy5461')).toBe('arctangent');
  });

  it('decodes vendor-specific attributes into sub-attributes, several per VSA, and keeps unknown attributes', () => {
    const vsa = hex(`1a 15 00 00 28 af 01 07 31 32 33 34 35 15 03 06 08 05 34 36 30`); // IMSI 12345, RAT 6, IMSI-MCC-MNC "460"
    const unknown = hex('f0 05 aa bb cc');
    const body = Buffer.concat([hex('01 03 61'), vsa, unknown]);
    const raw = Buffer.concat([hex('04 07'), Buffer.from([0, 20 + body.length]), Buffer.alloc(16), body]);
    const p = decodePacket(raw);
    expect(p.attributes.toArray().map((a) => [a.type, a.vendorId, a.vendorType, a.value.toString('hex')])).toEqual([
      [1, 0, 0, '61'],
      [26, VENDOR_3GPP, 1, '3132333435'],
      [26, VENDOR_3GPP, 21, '06'],
      [26, VENDOR_3GPP, 8, '343630'],
      [0xf0, 0, 0, 'aabbcc'],
    ]);
    expect(p.attributes.getVendor(VENDOR_3GPP, Attr3gpp.Imsi)?.toString()).toBe('12345');
    expect(p.attributes.findVendor(VENDOR_3GPP, 99)).toBe(-1);
  });

  it('ignores octets past the header length and rejects a header length beyond the datagram', () => {
    const padded = Buffer.concat([encodePacket({ code: 5, identifier: 1, attributes: [] }), Buffer.from([1, 2, 3])]);
    const p = decodePacket(padded);
    expect(p.raw.length).toBe(20);
    expect(p.attributes.count).toBe(0);
  });

  it('decodes vendors with other sub-attribute layouts (USR 4,0; Lucent 2,1) and opaque vendors', () => {
    const usr = hex('1a 0e 00 00 01 ad 00 00 98 6b 61 62 63 64'); // USR type 0x986b, value "abcd"
    const lucent = hex('1a 0b 00 00 12 ee 00 2a 05 78 79'); // Lucent type 42, value "xy"
    const body = Buffer.concat([usr, lucent]);
    const raw = Buffer.concat([hex('04 00'), Buffer.from([0, 20 + body.length]), Buffer.alloc(16), body]);
    const p = decodePacket(raw);
    expect(p.attributes.toArray().map((a) => [a.vendorId, a.vendorType, a.value.toString()])).toEqual([
      [429, 0x986b, 'abcd'],
      [4846, 42, 'xy'],
    ]);
    const opaque = decodePacket(raw, { vendorFormats: new Map([[429, 'opaque' as const], [4846, 'opaque' as const]]) });
    expect(opaque.attributes.at(0)).toMatchObject({ vendorId: 429, vendorType: -1 });
    expect(opaque.attributes.value(0).toString('hex')).toBe('0000986b61626364');
  });

  it('names every malformation with its reason', () => {
    const header = (length: number, size = length): Buffer => {
      const b = Buffer.alloc(size);
      b[0] = 4;
      b.writeUInt16BE(length, 2);
      return b;
    };
    const withBody = (body: Buffer): Buffer => Buffer.concat([header(20 + body.length, 20), body]);
    expectDecodeError(Buffer.alloc(0), 'too_short');
    expectDecodeError(Buffer.alloc(19), 'too_short');
    expectDecodeError(header(19, 20), 'bad_length');
    expectDecodeError(header(21, 20), 'bad_length');
    expectDecodeError(header(4097, 4100), 'bad_length');
    expectDecodeError(withBody(hex('01')), 'truncated_attribute');
    expectDecodeError(withBody(hex('01 05 61 62')), 'truncated_attribute');
    expectDecodeError(withBody(hex('01 01')), 'attribute_length');
    expectDecodeError(withBody(hex('01 00')), 'attribute_length');
    expectDecodeError(withBody(Buffer.concat([hex('50 10'), Buffer.alloc(14)])), 'attribute_length');
    expectDecodeError(withBody(hex('1a 06 00 00 28 af')), 'bad_vsa');
    expectDecodeError(withBody(hex('1a 08 00 00 28 af 01 05')), 'bad_vsa');
    expectDecodeError(withBody(hex('1a 08 00 00 28 af 01 01')), 'bad_vsa');
    expectDecodeError(withBody(hex('1a 09 00 00 28 af 01 02 05')), 'bad_vsa');
    const largest = header(4096);
    for (let i = 20; i < 4096; i += 2) largest.set([0xf0, 2], i);
    expect(decodePacket(largest).attributes.count).toBe(2038);
  });

  it('throws nothing but RadiusDecodeError on random and mutated input, and never hangs', () => {
    const valid = encodeAccessRequest(
      7,
      [attr(Attr.UserName, 'alice'), attr3gpp(Attr3gpp.Imsi, '460001234567890'), attr3gpp(Attr3gpp.RatType, uint8Value(6))],
      SECRET,
      { password: 'pw' },
    );
    const check = (buf: Buffer): void => {
      try {
        const p = decodePacket(buf);
        // everything reachable from a decoded packet must be safe too
        for (const a of p.attributes) expect(a.value.length).toBeLessThanOrEqual(253);
        verifyMessageAuthenticator(p, SECRET);
        verifyMessageAuthenticator(buf, SECRET);
        verifyRequestAuthenticator(buf, SECRET);
        readUserPassword(p, SECRET);
      } catch (e) {
        if (!(e instanceof RadiusDecodeError)) throw e;
      }
    };
    const started = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => check(Buffer.from(bytes))),
      { numRuns: 5000 },
    );
    // random bodies behind a header whose length is right, so the attribute walker is exercised
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (body, code) => {
        const b = Buffer.concat([Buffer.from([code, 1, 0, 0]), Buffer.alloc(16), body]);
        b.writeUInt16BE(b.length, 2);
        check(b);
      }),
      { numRuns: 5000 },
    );
    // mutations of a valid packet: flipped bytes, truncation, extension
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(valid.length + 8),
        (edits, cut) => {
          const b = Buffer.concat([valid, randomBytes(8)]);
          for (const [at, v] of edits) b[at] = v;
          check(b.subarray(0, cut));
        },
      ),
      { numRuns: 5000 },
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('encoding', () => {
  it('round-trips standard, integer, address and vendor attributes', () => {
    const attributes = [
      attr(Attr.UserName, 'user@iot'),
      attr(Attr.AcctStatusType, 3),
      attr(Attr.FramedIpAddress, ipv4Value('10.1.2.3')),
      vendorAttr(VENDOR_3GPP, Attr3gpp.SgsnMccMnc, '46001'),
      attr(Attr.Class, Buffer.alloc(253, 7)),
    ];
    const raw = encodePacket({ code: Code.AccountingRequest, identifier: 200, attributes });
    const p = decodePacket(raw);
    expect(p.code).toBe(4);
    expect(p.identifier).toBe(200);
    expect(raw.readUInt16BE(2)).toBe(raw.length);
    expect(p.attributes.toArray().map((a) => [a.type, a.vendorId, a.vendorType, a.value.toString('hex')])).toEqual([
      [1, 0, 0, Buffer.from('user@iot').toString('hex')],
      [40, 0, 0, '00000003'],
      [8, 0, 0, '0a010203'],
      [26, VENDOR_3GPP, 18, Buffer.from('46001').toString('hex')],
      [25, 0, 0, Buffer.alloc(253, 7).toString('hex')],
    ]);
    // decoded attributes can be encoded again unchanged
    const again = encodePacket({ code: 4, identifier: 200, attributes: p.attributes.toArray() });
    expect(again.equals(raw)).toBe(true);
  });

  it('refuses values that do not fit', () => {
    expect(() => encodePacket({ code: 4, identifier: 0, attributes: [attr(Attr.Class, Buffer.alloc(254))] })).toThrow(RangeError);
    expect(() => encodePacket({ code: 4, identifier: 0, attributes: [vendorAttr(9, 1, Buffer.alloc(248))] })).toThrow(RangeError);
    expect(() => encodePacket({ code: 4, identifier: 256, attributes: [] })).toThrow(RangeError);
    expect(() => encodePacket({ code: 4, identifier: 0, attributes: [attr(0, 'x')] })).toThrow(RangeError);
    expect(() => encodePacket({ code: 4, identifier: 0, attributes: [attr(1, -1)] })).toThrow(RangeError);
    const many = Array.from({ length: 20 }, () => attr(Attr.Class, Buffer.alloc(250)));
    expect(() => encodePacket({ code: 4, identifier: 0, attributes: many })).toThrow(RangeError);
    expect(() => ipv4Value('10.0.0.256')).toThrow(RangeError);
  });
});

describe('authenticators (known answers computed with node:crypto)', () => {
  const attributes = [attr(Attr.UserName, 'alice'), attr(Attr.AcctStatusType, 1), attr(Attr.AcctSessionId, 'sess-1')];

  it('computes and verifies the Accounting-Request / Disconnect-Request authenticator', () => {
    for (const code of [Code.AccountingRequest, Code.DisconnectRequest, Code.CoaRequest]) {
      const raw = encodeRequest(code, 42, attributes, SECRET);
      const zeroed = Buffer.from(raw);
      zeroed.fill(0, 4, 20);
      expect(raw.subarray(4, 20).equals(md5(zeroed, Buffer.from(SECRET)))).toBe(true);
      expect(verifyRequestAuthenticator(raw, SECRET)).toBe(true);
      expect(verifyRequestAuthenticator(raw, 'wrong')).toBe(false);
      const tampered = Buffer.from(raw);
      tampered[tampered.length - 1]! ^= 1;
      expect(verifyRequestAuthenticator(tampered, SECRET)).toBe(false);
      expect(verifyRequestAuthenticator(raw.subarray(0, 10), SECRET)).toBe(false);
    }
  });

  it('adds a Message-Authenticator to a Disconnect-Request computed over a zero authenticator', () => {
    const raw = encodeRequest(Code.DisconnectRequest, 9, attributes, SECRET, { messageAuthenticator: true });
    const p = decodePacket(raw);
    expect(p.attributes.type(0)).toBe(Attr.MessageAuthenticator);
    const copy = Buffer.from(raw);
    copy.fill(0, 4, 20);
    copy.fill(0, 22, 38);
    expect(raw.subarray(22, 38).equals(createHmac('md5', SECRET).update(copy).digest())).toBe(true);
    expect(verifyRequestAuthenticator(raw, SECRET)).toBe(true);
    expect(verifyMessageAuthenticator(p, SECRET)).toBe(true);
  });

  it('computes the Response Authenticator, and matches the RFC 2865 example', () => {
    const request = decodePacket(encodeRequest(Code.AccountingRequest, 17, attributes, SECRET));
    const reply = encodeReply(request, Code.AccountingResponse, [], SECRET);
    expect(reply[1]).toBe(17);
    const withRequestAuth = Buffer.from(reply);
    request.authenticator.copy(withRequestAuth, 4);
    expect(reply.subarray(4, 20).equals(md5(withRequestAuth, Buffer.from(SECRET)))).toBe(true);
    expect(verifyResponseAuthenticator(reply, request.authenticator, SECRET)).toBe(true);
    expect(verifyResponseAuthenticator(reply, Buffer.alloc(16), SECRET)).toBe(false);
    expect(decodePacket(reply).attributes.count).toBe(0);

    const rfcRequestAuth = RFC2865_REQUEST.subarray(4, 20);
    expect(responseAuthenticator(RFC2865_ACCEPT, rfcRequestAuth, 'xyzzy5461').equals(RFC2865_ACCEPT.subarray(4, 20))).toBe(true);
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, rfcRequestAuth, 'xyzzy5461')).toBe(true);
  });

  it('signs Access-Request with a Message-Authenticator and hides the password (RFC 2865 5.2, RFC 3579 3.2)', () => {
    const authenticator = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const raw = encodeAccessRequest(3, [attr(Attr.UserName, 'bob')], SECRET, { password: 'a long password of 25 oct', authenticator });
    const p = decodePacket(raw);
    expect(p.authenticator.equals(authenticator)).toBe(true);
    expect(p.attributes.type(0)).toBe(Attr.MessageAuthenticator);
    const zeroed = Buffer.from(raw);
    zeroed.fill(0, 22, 38);
    expect(raw.subarray(22, 38).equals(createHmac('md5', SECRET).update(zeroed).digest())).toBe(true);
    expect(verifyMessageAuthenticator(p, SECRET)).toBe(true);
    expect(verifyMessageAuthenticator(raw, SECRET)).toBe(true);
    expect(verifyMessageAuthenticator(p, 'other')).toBe(false);
    const tampered = Buffer.from(raw);
    tampered[tampered.length - 1]! ^= 1;
    expect(verifyMessageAuthenticator(decodePacket(tampered), SECRET)).toBe(false);
    expect(verifyMessageAuthenticator(decodePacket(RFC2865_REQUEST), 'xyzzy5461')).toBeUndefined();

    // User-Password: c1 = p1 xor MD5(S + RA), c2 = p2 xor MD5(S + c1)
    const hidden = p.attributes.get(Attr.UserPassword)!;
    expect(hidden.length).toBe(32);
    const padded = Buffer.alloc(32);
    padded.write('a long password of 25 oct');
    const b1 = md5(Buffer.from(SECRET), authenticator);
    const c1 = Buffer.from(padded.subarray(0, 16).map((x, i) => x ^ b1[i]!));
    const b2 = md5(Buffer.from(SECRET), c1);
    const c2 = Buffer.from(padded.subarray(16, 32).map((x, i) => x ^ b2[i]!));
    expect(hidden.equals(Buffer.concat([c1, c2]))).toBe(true);
    expect(readUserPassword(p, SECRET)).toBe('a long password of 25 oct');
    expect(revealPassword(hidePassword('', SECRET, authenticator), SECRET, authenticator).length).toBe(0);
    expect(() => hidePassword('x'.repeat(129), SECRET, authenticator)).toThrow(RangeError);
  });

  it('signs Access-Accept/Reject with a Message-Authenticator over the request authenticator, then the Response Authenticator', () => {
    const request = decodePacket(encodeAccessRequest(250, [attr(Attr.UserName, 'bob')], SECRET));
    for (const code of [Code.AccessAccept, Code.AccessReject]) {
      const reply = encodeReply(request, code, [attr(Attr.ReplyMessage, 'no')], SECRET);
      const p = decodePacket(reply);
      expect(p.attributes.type(0)).toBe(Attr.MessageAuthenticator);
      const forHmac = Buffer.from(reply);
      request.authenticator.copy(forHmac, 4);
      forHmac.fill(0, 22, 38);
      expect(reply.subarray(22, 38).equals(createHmac('md5', SECRET).update(forHmac).digest())).toBe(true);
      const forMd5 = Buffer.from(reply);
      request.authenticator.copy(forMd5, 4);
      expect(reply.subarray(4, 20).equals(md5(forMd5, Buffer.from(SECRET)))).toBe(true);
      expect(verifyMessageAuthenticator(p, SECRET, request.authenticator)).toBe(true);
      expect(verifyMessageAuthenticator(p, SECRET)).toBe(false);
    }
    const nak = decodePacket(encodeReply(request, Code.DisconnectNak, [attr(Attr.ErrorCause, ErrorCause.SessionContextNotFound)], SECRET));
    expect(nak.attributes.find(Attr.MessageAuthenticator)).toBe(-1);
  });

  it('signs an Accounting-Response Message-Authenticator over a zero authenticator, as FreeRADIUS checks it', () => {
    const request = decodePacket(encodeRequest(Code.AccountingRequest, 8, attributes, SECRET, { messageAuthenticator: true }));
    const reply = encodeReply(request, Code.AccountingResponse, [], SECRET, { messageAuthenticator: true });
    const forHmac = Buffer.from(reply);
    forHmac.fill(0, 4, 20);
    forHmac.fill(0, 22, 38);
    expect(reply.subarray(22, 38).equals(createHmac('md5', SECRET).update(forHmac).digest())).toBe(true);
    expect(verifyResponseAuthenticator(reply, request.authenticator, SECRET)).toBe(true);
    expect(verifyMessageAuthenticator(decodePacket(reply), SECRET, request.authenticator)).toBe(true);
  });

  it('copies the request\'s Proxy-State attributes into the reply, in order', () => {
    const request = decodePacket(
      encodeRequest(Code.AccountingRequest, 1, [attr(Attr.ProxyState, 'hop-1'), attr(Attr.UserName, 'u'), attr(Attr.ProxyState, Buffer.from([0, 1]))], SECRET),
    );
    const reply = decodePacket(encodeReply(request, Code.AccountingResponse, [attr(Attr.ReplyMessage, 'ok')], SECRET));
    expect(reply.attributes.toArray().map((a) => [a.type, a.value.toString('hex')])).toEqual([
      [Attr.ReplyMessage, Buffer.from('ok').toString('hex')],
      [Attr.ProxyState, Buffer.from('hop-1').toString('hex')],
      [Attr.ProxyState, '0001'],
    ]);
    expect(verifyResponseAuthenticator(reply.raw, request.authenticator, SECRET)).toBe(true);
  });

  it('uses a hashed key for secrets longer than the HMAC block', () => {
    const longSecret = 's'.repeat(100);
    const raw = encodeAccessRequest(1, [attr(Attr.UserName, 'x')], longSecret);
    const zeroed = Buffer.from(raw);
    zeroed.fill(0, 22, 38);
    expect(raw.subarray(22, 38).equals(createHmac('md5', longSecret).update(zeroed).digest())).toBe(true);
    expect(verifyMessageAuthenticator(raw, Buffer.from(longSecret))).toBe(true);
  });
});

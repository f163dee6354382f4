import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AcctStatus,
  Attr,
  Attr3gpp,
  attr,
  attr3gpp,
  Code,
  hexValue,
  ipv4Value,
  type OutgoingAttribute,
  splitOctets,
  timeValue,
  uint8Value,
  vendorAttr,
} from './attributes.ts';
import { decodePacket, encodeAccessRequest, encodeRequest, RadiusDecodeError } from './codec.ts';
import { readAccessRequest, readAccounting } from './readers.ts';

const SECRET = 'gw-secret';
const accounting = (attributes: OutgoingAttribute[]) => readAccounting(decodePacket(encodeRequest(Code.AccountingRequest, 1, attributes, SECRET)));

describe('readAccounting', () => {
  it('reads every field of a 3GPP interim update', () => {
    const input = splitOctets(2 * 2 ** 32 + 5);
    const f = accounting([
      attr(Attr.AcctStatusType, AcctStatus.InterimUpdate),
      attr(Attr.UserName, '460001234567890'),
      attr(Attr.AcctSessionId, '0A1B2C3D'),
      attr(Attr.AcctMultiSessionId, 'multi-1'),
      attr(Attr.FramedIpAddress, ipv4Value('100.64.1.2')),
      attr(Attr.CalledStationId, 'iot.example'),
      attr(Attr.CallingStationId, '8613800138000'),
      attr(Attr.AcctInputOctets, input.octets),
      attr(Attr.AcctInputGigawords, input.gigawords),
      attr(Attr.AcctOutputOctets, 0xffffffff),
      attr(Attr.AcctOutputGigawords, 0x1fffff),
      attr(Attr.AcctInputPackets, 10),
      attr(Attr.AcctOutputPackets, 11),
      attr(Attr.AcctSessionTime, 600),
      attr(Attr.AcctDelayTime, 2),
      attr(Attr.EventTimestamp, timeValue(new Date('2026-11-22T08:00:00Z'))),
      attr(Attr.NasIpAddress, ipv4Value('192.0.2.1')),
      attr(Attr.NasIdentifier, 'pgw-1'),
      attr3gpp(Attr3gpp.Imsi, '460001234567890'),
      attr3gpp(Attr3gpp.ChargingId, 0x80000001),
      attr3gpp(Attr3gpp.GgsnMccMnc, '46000'),
      attr3gpp(Attr3gpp.ImsiMccMnc, '46000'),
      attr3gpp(Attr3gpp.SgsnMccMnc, '45406'),
      attr3gpp(Attr3gpp.ImeiSv, '3520990017614823'),
      attr3gpp(Attr3gpp.RatType, uint8Value(8)),
      attr3gpp(Attr3gpp.UserLocationInfo, hexValue('8254f460010254f46000abcdef')),
      attr3gpp(Attr3gpp.MsTimeZone, hexValue('2300')),
      vendorAttr(9, 1, 'cisco-avpair=x'),
    ]);
    expect(f).toEqual({
      statusType: 3,
      status: 'interim',
      userName: '460001234567890',
      acctSessionId: '0A1B2C3D',
      multiSessionId: 'multi-1',
      framedIp: '100.64.1.2',
      apn: 'iot.example',
      msisdn: '8613800138000',
      bytesIn: 2 * 2 ** 32 + 5,
      bytesOut: Number.MAX_SAFE_INTEGER,
      hasGigawords: true,
      packetsIn: 10,
      packetsOut: 11,
      sessionSeconds: 600,
      delaySeconds: 2,
      eventTime: new Date('2026-11-22T08:00:00Z'),
      nasIp: '192.0.2.1',
      nasIdentifier: 'pgw-1',
      terminateCauseCode: null,
      terminateCause: null,
      imsi: '460001234567890',
      chargingId: 0x80000001,
      ggsnMccMnc: '46000',
      imsiMccMnc: '46000',
      sgsnMccMnc: '45406',
      imeisv: '3520990017614823',
      ratType: 8,
      ratName: 'EUTRAN-NB-IoT',
      rat: 'NB-IoT',
      location: {
        typeCode: 130,
        type: 'TAI+ECGI',
        mcc: '454',
        mnc: '06',
        tai: { mcc: '454', mnc: '06', tac: 0x0102 },
        ecgi: { mcc: '454', mnc: '06', eci: 0xabcdef },
        raw: '54f460010254f46000abcdef',
      },
      timeZone: { offsetMinutes: 480, dstHours: 0 },
    });
  });

  it('maps the status types and terminate causes, and counts without gigawords', () => {
    const names = [
      [AcctStatus.Start, 'start'],
      [AcctStatus.Stop, 'stop'],
      [AcctStatus.InterimUpdate, 'interim'],
      [AcctStatus.AccountingOn, 'accounting-on'],
      [AcctStatus.AccountingOff, 'accounting-off'],
      [15, null],
    ] as const;
    for (const [value, name] of names) expect(accounting([attr(Attr.AcctStatusType, value)]).status).toBe(name);
    const stop = accounting([
      attr(Attr.AcctStatusType, AcctStatus.Stop),
      attr(Attr.AcctTerminateCause, 4),
      attr(Attr.AcctInputOctets, 123),
      attr(Attr.AcctOutputOctets, 456),
    ]);
    expect(stop).toMatchObject({ statusType: 2, terminateCauseCode: 4, terminateCause: 'Idle-Timeout', bytesIn: 123, bytesOut: 456, hasGigawords: false });
    expect(accounting([]).statusType).toBeNull();
  });

  it('takes the first of repeated attributes, ignores wrong lengths and reads binary IMEISV and 4-octet RAT types', () => {
    const f = accounting([
      attr(Attr.AcctSessionId, 'first'),
      attr(Attr.AcctSessionId, 'second'),
      attr(Attr.AcctInputOctets, Buffer.from([1, 2])),
      attr(Attr.FramedIpAddress, Buffer.from([10, 0, 0])),
      attr(Attr.EventTimestamp, Buffer.from([1])),
      attr3gpp(Attr3gpp.ImeiSv, hexValue('5302990071168432')),
      attr3gpp(Attr3gpp.RatType, 6),
    ]);
    expect(f).toMatchObject({ acctSessionId: 'first', bytesIn: 0, framedIp: null, eventTime: null, imeisv: '3520990017614823', ratType: 6, rat: '4G' });
  });
});

describe('readAccessRequest', () => {
  it('reads the subscriber fields of an Access-Request', () => {
    const raw = encodeAccessRequest(
      5,
      [
        attr(Attr.UserName, 'device-1'),
        attr(Attr.CallingStationId, '8613800138000'),
        attr(Attr.CalledStationId, 'iot.example'),
        attr(Attr.NasIpAddress, ipv4Value('192.0.2.9')),
        attr(Attr.NasPortType, 19),
        attr(Attr.FramedIpAddress, ipv4Value('100.64.0.9')),
        attr3gpp(Attr3gpp.Imsi, '001010000000001'),
        attr3gpp(Attr3gpp.ImeiSv, '8675309012345601'),
        attr3gpp(Attr3gpp.RatType, uint8Value(10)),
        attr3gpp(Attr3gpp.SgsnMccMnc, '00101'),
        attr3gpp(Attr3gpp.UserLocationInfo, hexValue('89 00f110 000000 00f110 0000000001'.replaceAll(' ', ''))),
      ],
      SECRET,
      { password: 'secret' },
    );
    expect(readAccessRequest(decodePacket(raw))).toMatchObject({
      userName: 'device-1',
      msisdn: '8613800138000',
      apn: 'iot.example',
      nasIp: '192.0.2.9',
      nasPortType: 19,
      framedIp: '100.64.0.9',
      imsi: '001010000000001',
      imeisv: '8675309012345601',
      ratType: 10,
      ratName: 'NR',
      rat: '5G',
      sgsnMccMnc: '00101',
      location: { type: '5GS-TAI+NCGI', mcc: '001', mnc: '01', tai: { tac: 0 }, ncgi: { nci: 1 } },
      hasUserPassword: true,
      hasChapPassword: false,
      hasMessageAuthenticator: true,
    });
  });

  it('never throws on any decodable packet', () => {
    const anyAttribute = fc.oneof(
      fc.record({ type: fc.integer({ min: 1, max: 255 }).filter((t) => t !== 26 && t !== 80), value: fc.uint8Array({ maxLength: 20 }) }),
      fc.record({ vendorId: fc.constant(10415), vendorType: fc.integer({ min: 0, max: 30 }), value: fc.uint8Array({ maxLength: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(anyAttribute, { maxLength: 30 }), (attributes) => {
        try {
          const p = decodePacket(encodeRequest(Code.AccountingRequest, 0, attributes, SECRET));
          readAccounting(p);
          readAccessRequest(p);
        } catch (e) {
          if (!(e instanceof RadiusDecodeError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

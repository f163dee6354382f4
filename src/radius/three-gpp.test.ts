import { describe, expect, it } from 'vitest';
import { decodeMsTimeZone, decodePlmn, decodeTbcd, decodeUserLocationInfo, RAT_TYPES } from './three-gpp.ts';

/** PLMN octets written independently of the decoder: MCC2|MCC1, MNC3|MCC3 (F for a 2-digit MNC), MNC2|MNC1. */
function plmn(mcc: string, mnc: string): number[] {
  const d = (s: string, i: number): number => (i < s.length ? Number(s[i]) : 0x0f);
  return [(d(mcc, 1) << 4) | d(mcc, 0), (d(mnc, 2) << 4) | d(mcc, 2), (d(mnc, 1) << 4) | d(mnc, 0)];
}
const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const uli = (...parts: (number | number[])[]): Buffer => Buffer.from(parts.flat());

describe('PLMN digits (TS 24.008 10.5.1.3)', () => {
  it('decodes 2- and 3-digit MNCs from known octets', () => {
    expect(decodePlmn(Buffer.from('64f000', 'hex'), 0)).toEqual({ mcc: '460', mnc: '00' });
    expect(decodePlmn(Buffer.from('32f451', 'hex'), 0)).toEqual({ mcc: '234', mnc: '15' });
    expect(decodePlmn(Buffer.from('130014', 'hex'), 0)).toEqual({ mcc: '310', mnc: '410' });
    expect(decodePlmn(Buffer.from('044558', 'hex'), 0)).toEqual({ mcc: '405', mnc: '854' });
    expect(plmn('310', '410')).toEqual([0x13, 0x00, 0x14]);
    expect(decodePlmn(Buffer.from('6af000', 'hex'), 0)).toBeNull();
    expect(decodePlmn(Buffer.from('64e000', 'hex'), 0)).toBeNull();
    expect(decodePlmn(Buffer.from('64f0', 'hex'), 0)).toBeNull();
  });
});

describe('3GPP-User-Location-Info', () => {
  for (const [mcc, mnc] of [
    ['460', '01'],
    ['310', '260'],
  ] as const) {
    it(`decodes CGI, SAI, RAI with MCC ${mcc} MNC ${mnc}`, () => {
      expect(decodeUserLocationInfo(uli(0, plmn(mcc, mnc), u16(0x1234), u16(0xabcd)))).toMatchObject({
        typeCode: 0,
        type: 'CGI',
        mcc,
        mnc,
        cgi: { mcc, mnc, lac: 0x1234, ci: 0xabcd },
      });
      expect(decodeUserLocationInfo(uli(1, plmn(mcc, mnc), u16(7), u16(65535)))).toMatchObject({
        type: 'SAI',
        sai: { mcc, mnc, lac: 7, sac: 65535 },
      });
      expect(decodeUserLocationInfo(uli(2, plmn(mcc, mnc), u16(300), 0x21, 0xff))).toMatchObject({
        type: 'RAI',
        rai: { mcc, mnc, lac: 300, rac: 0x21 },
      });
    });

    it(`decodes TAI, ECGI and TAI+ECGI with MCC ${mcc} MNC ${mnc}`, () => {
      expect(decodeUserLocationInfo(uli(128, plmn(mcc, mnc), u16(0x0102)))).toEqual({
        typeCode: 128,
        type: 'TAI',
        mcc,
        mnc,
        tai: { mcc, mnc, tac: 0x0102 },
        raw: Buffer.from([...plmn(mcc, mnc), 1, 2]).toString('hex'),
      });
      // ECI: 28 bits after 4 spare bits (set here to check they are ignored)
      expect(decodeUserLocationInfo(uli(129, plmn(mcc, mnc), [0xfa, 0xbc, 0xde, 0xf1]))).toMatchObject({
        type: 'ECGI',
        mcc,
        mnc,
        ecgi: { mcc, mnc, eci: 0x0abcdef1 },
      });
      const both = decodeUserLocationInfo(uli(130, plmn(mcc, mnc), u16(0xfffe), plmn(mcc, mnc), [0x01, 0x00, 0x00, 0x01]));
      expect(both).toMatchObject({
        typeCode: 130,
        type: 'TAI+ECGI',
        mcc,
        mnc,
        tai: { mcc, mnc, tac: 0xfffe },
        ecgi: { mcc, mnc, eci: 0x1000001 },
      });
    });
  }

  it('takes the cell PLMN when TAI and ECGI differ, and decodes 5G and eNodeB types', () => {
    const mixed = decodeUserLocationInfo(uli(130, plmn('460', '00'), u16(1), plmn('460', '011'), [0, 0, 0, 9]));
    expect(mixed).toMatchObject({ mcc: '460', mnc: '011', tai: { mnc: '00' }, ecgi: { mnc: '011', eci: 9 } });
    expect(decodeUserLocationInfo(uli(135, plmn('001', '01'), [0xf1, 0x23, 0x45, 0x67, 0x89]))).toMatchObject({
      type: 'NCGI',
      ncgi: { mcc: '001', mnc: '01', nci: 0x123456789 },
    });
    expect(decodeUserLocationInfo(uli(136, plmn('001', '01'), u24(0xabcdef)))).toMatchObject({ type: '5GS-TAI', tai: { tac: 0xabcdef } });
    expect(decodeUserLocationInfo(uli(137, plmn('001', '01'), u24(5), plmn('001', '001'), [0, 0, 0, 0, 7]))).toMatchObject({
      type: '5GS-TAI+NCGI',
      mnc: '001',
      tai: { tac: 5 },
      ncgi: { nci: 7 },
    });
    expect(decodeUserLocationInfo(uli(131, plmn('262', '01'), [0xf1, 0x23, 0x45]))).toMatchObject({
      type: 'eNodeB-ID',
      enodeb: { mcc: '262', mnc: '01', enodebId: 0x12345 },
    });
  });

  it('keeps unknown types raw and rejects truncated or non-BCD locations', () => {
    expect(decodeUserLocationInfo(uli(138, 1, 2, 3))).toEqual({ typeCode: 138, type: 'unknown', mcc: null, mnc: null, raw: '010203' });
    expect(decodeUserLocationInfo(Buffer.alloc(0))).toBeNull();
    expect(decodeUserLocationInfo(uli(128, plmn('460', '00'), 1))).toBeNull();
    expect(decodeUserLocationInfo(uli(130, plmn('460', '00'), u16(1), plmn('460', '00'), [0, 0, 0]))).toBeNull();
    expect(decodeUserLocationInfo(uli(129, [0xaa, 0xf0, 0], [0, 0, 0, 1]))).toBeNull();
    let decoded = 0;
    for (let type = 0; type < 256; type++) {
      for (let len = 0; len < 16; len++) if (decodeUserLocationInfo(uli(type, new Array<number>(len).fill(0x11))) !== null) decoded++;
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

describe('3GPP-MS-TimeZone, TBCD and RAT types', () => {
  it('decodes the time zone in quarters of an hour with its sign bit and the DST adjustment', () => {
    expect(decodeMsTimeZone(Buffer.from([0x23, 0]))).toEqual({ offsetMinutes: 480, dstHours: 0 }); // UTC+8
    expect(decodeMsTimeZone(Buffer.from([0x69, 1]))).toEqual({ offsetMinutes: -240, dstHours: 1 }); // UTC-4 in summer
    expect(decodeMsTimeZone(Buffer.from([0x32, 0]))).toEqual({ offsetMinutes: 345, dstHours: 0 }); // UTC+5:45
    expect(decodeMsTimeZone(Buffer.from([0x23]))).toBeNull();
    expect(decodeMsTimeZone(Buffer.from([0xa0, 0]))).toBeNull();
  });

  it('decodes TBCD digits with or without filler', () => {
    expect(decodeTbcd(Buffer.from('5302990071168432', 'hex'))).toBe('3520990017614823');
    expect(decodeTbcd(Buffer.from('640010325476f8', 'hex'))).toBe('4600012345678');
    expect(decodeTbcd(Buffer.from('6a', 'hex'))).toBeNull();
    expect(decodeTbcd(Buffer.from('6f', 'hex'))).toBeNull();
    expect(decodeTbcd(Buffer.from('f6', 'hex'))).toBe('6');
  });

  it('names RAT types as TS 29.274 does', () => {
    expect(RAT_TYPES.get(1)).toEqual({ name: 'UTRAN', rat: '3G' });
    expect(RAT_TYPES.get(2)).toEqual({ name: 'GERAN', rat: '2G' });
    expect(RAT_TYPES.get(6)).toEqual({ name: 'EUTRAN', rat: '4G' });
    expect(RAT_TYPES.get(8)).toEqual({ name: 'EUTRAN-NB-IoT', rat: 'NB-IoT' });
    expect(RAT_TYPES.get(9)).toEqual({ name: 'LTE-M', rat: 'LTE-M' });
    expect(RAT_TYPES.get(10)).toEqual({ name: 'NR', rat: '5G' });
  });
});

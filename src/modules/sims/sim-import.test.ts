import { describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../shared/luhn.ts';
import { checkHeader, checkImportRow } from './sim-import.ts';

const iccid = `8986001234567890123${luhnCheckDigit('8986001234567890123')}`;

describe('CSV import rows', () => {
  it('accepts a full row with several IMSIs and labels', () => {
    const r = checkImportRow({ iccid, imsi: '460001234567890|460011234567890', active_imsi: '460011234567890', msisdn: '1440123456789', labels: 'a;b', batch: 'B7', group: 'G' }, 2);
    expect(r).toMatchObject({ ok: true, sim: { imsis: ['460001234567890', '460011234567890'], activeImsi: '460011234567890', labels: ['a', 'b'], group: 'G' } });
  });
  it.each([
    [{ iccid: '123', imsi: '460001234567890' }, 'invalid_iccid_length'],
    [{ iccid, imsi: '' }, 'missing_imsi'],
    [{ iccid, imsi: '46000123' }, 'invalid_imsi'],
    [{ iccid, imsi: '460001234567890|460001234567890' }, 'duplicate_imsi'],
    [{ iccid, imsi: '460001234567890', active_imsi: '460009999999999' }, 'invalid_active_imsi'],
    [{ iccid, imsi: '460001234567890', msisdn: '+86 123' }, 'invalid_msisdn'],
    [{ iccid, imsi: '460001234567890', eid: '123' }, 'invalid_eid'],
    [{ iccid, imsi: '460001234567890', labels: 'ok,bad label' }, 'invalid_label'],
  ])('rejects %j with %s', (row, code) => {
    expect(checkImportRow(row, 2)).toMatchObject({ ok: false, code });
  });
  it('names unknown and missing columns', () => {
    expect(checkHeader(['iccid', 'imsi', 'msisdn'])).toEqual([]);
    const problems = checkHeader(['iccid', 'colour']);
    expect(problems.join(' ')).toContain('unknown column(s) colour');
    expect(problems.join(' ')).toContain('missing required column(s) imsi');
  });
});

import { describe, expect, it } from 'vitest';
import { countryOfMcc, describePlmn, knownCountries } from './plmn.ts';

/** Every country of the sample zone catalogue (zones.csv). */
const ZONE_COUNTRIES =
  'DK FR NO ID PL CH GB IE EE AT MO AU FI KZ HR LV LT SE SK TH TR HK IS DE FO NL LU RO MY HU JE CY NZ ' +
  'BH BG BE PH SG AL GH CZ MT ZA PT ES GR IT DZ PS SI UA IL IM RU TW US JP KR ME PK KG KW LA BD AM VG ' +
  'BO BQ GF WS TO VU IR VN AX MM GI BN TN BY MN TJ UZ AZ PY HN KH PE SA LI MK MD AW AI PA GY HT SV SR ' +
  'TT NG PG BZ TD FJ CG CD GA QA KE MW NP LK TZ UG ZM RS EG GL CL JO AR AG BB BR DM EC CO CR GD KY MS ' +
  'MX NI KN LC VC GT VE UY JM IN CA SD TG ZW BJ BW BF CM GQ CI LS LR MG ML MA MZ RW SN SC SL NE AF AE ' +
  'GP BS BM BA GE GU IQ CW OM RE YE DO TF GN TC';

describe('describePlmn', () => {
  it('names the Chinese operators', () => {
    expect(describePlmn('46000')).toEqual({ mcc: '460', mnc: '00', country: 'CN', operator: 'China Mobile' });
    expect(describePlmn('46001')).toMatchObject({ country: 'CN', operator: 'China Unicom' });
    expect(describePlmn('46011')).toMatchObject({ country: 'CN', operator: 'China Telecom' });
  });

  it('reads five digits as a 2-digit MNC and six as a 3-digit one', () => {
    expect(describePlmn('310410')).toEqual({ mcc: '310', mnc: '410', country: 'US', operator: 'AT&T' });
    expect(describePlmn('26202')).toEqual({ mcc: '262', mnc: '02', country: 'DE', operator: 'Vodafone Germany' });
    expect(describePlmn('732101')).toMatchObject({ mnc: '101', country: 'CO', operator: 'Claro Colombia' });
  });

  it('accepts a separator and tolerates an MNC padded or trimmed by the gateway', () => {
    expect(describePlmn('460-00')).toMatchObject({ mcc: '460', mnc: '00', operator: 'China Mobile' });
    expect(describePlmn('460000')).toMatchObject({ mcc: '460', mnc: '000', operator: 'China Mobile' });
  });

  it('gives the country of an unknown network from its MCC', () => {
    expect(describePlmn('46099')).toEqual({ mcc: '460', mnc: '99', country: 'CN', operator: null });
    expect(describePlmn('311999')).toMatchObject({ country: 'US', operator: null });
    expect(describePlmn('90128')).toEqual({ mcc: '901', mnc: '28', country: null, operator: null });
  });

  it('tells apart territories that share an MCC by their network', () => {
    expect(describePlmn('23450')).toMatchObject({ country: 'JE', operator: 'JT' });
    expect(describePlmn('23458')).toMatchObject({ country: 'IM' });
    expect(describePlmn('23415')).toMatchObject({ country: 'GB' });
    expect(describePlmn('42505')).toMatchObject({ country: 'PS', operator: 'Jawwal' });
    expect(describePlmn('42501')).toMatchObject({ country: 'IL' });
    expect(describePlmn('24414')).toMatchObject({ country: 'AX' });
  });

  it('refuses input that is not 5 or 6 digits', () => {
    for (const bad of ['', '4600', '4600000', 'abcde', '460 0x']) expect(describePlmn(bad), bad).toBeNull();
  });
});

describe('MCC table', () => {
  it('maps the MCCs of several regions', () => {
    expect(countryOfMcc('454')).toBe('HK');
    expect(countryOfMcc('455')).toBe('MO');
    expect(countryOfMcc('466')).toBe('TW');
    expect(countryOfMcc('440')).toBe('JP');
    expect(countryOfMcc('405')).toBe('IN');
    expect(countryOfMcc('655')).toBe('ZA');
    expect(countryOfMcc('724')).toBe('BR');
    expect(countryOfMcc('000')).toBeNull();
  });

  it('covers every country of the zone catalogue (Z1-Z7 of the sample price list)', () => {
    const known = knownCountries();
    // TF (French Southern Territories) has no public mobile network of its own, hence no MCC.
    const missing = ZONE_COUNTRIES.split(' ').filter((c) => !known.has(c) && c !== 'TF');
    expect(missing).toEqual([]);
  });
});

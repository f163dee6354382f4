import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkZones, createZoneIndex, parseZonePricesCsv, parseZonesCsv, unmappedCountries, type Zone, zonesCovering } from './zones.ts';
import { errorOf } from '../../../test/support/errors.ts';

const sample = (name: string) => readFileSync(new URL(`./sample/${name}`, import.meta.url), 'utf8');
const ZONES_CSV = sample('zones.csv');
const PRICES_CSV = sample('zone_prices_cny.csv');

describe('the sample catalogue', () => {
  const zones = parseZonesCsv(ZONES_CSV);

  it('has the seven zones of the price list with the country counts of the source document', () => {
    expect(zones.map((z) => [z.id, z.countries.length])).toEqual([
      ['Z1', 31],
      ['Z2', 24],
      ['Z3', 1],
      ['Z4', 11],
      ['Z5', 12],
      ['Z6', 28],
      ['Z7', 98],
    ]);
    expect(zones[5]).toMatchObject({ id: 'Z6', name: 'Zone 6 (Belt and Road)', networks: [] });
  });

  it('reads ten tiers and the SMS price of each zone, exactly', () => {
    const prices = parseZonePricesCsv(PRICES_CSV, { zones });
    expect(prices).toHaveLength(7);
    const z1 = prices[0]!;
    expect(z1.zoneId).toBe('Z1');
    expect(z1.currency).toBe('CNY');
    expect(z1.tiers.map((t) => t.label)).toEqual(['1MB', '3MB', '5MB', '10MB', '30MB', '50MB', '100MB', '300MB', '500MB', '1GB']);
    expect(z1.tiers[0]).toEqual({ label: '1MB', includedBytes: 1_048_576, monthlyFeeMicros: 3_350_000 });
    expect(z1.tiers[9]).toEqual({ label: '1GB', includedBytes: 1_073_741_824, monthlyFeeMicros: 162_790_000 });
    expect(z1.smsPriceMicros).toBe(1_200_000);
    expect(prices[4]!.tiers[9]!.monthlyFeeMicros).toBe(1_087_990_000);
    expect(prices[4]!.smsPriceMicros).toBe(3_600_000);
  });

  it('names the one country no mobile network code maps to', () => {
    expect(unmappedCountries(zones)).toEqual(['TF']);
  });
});

describe('coverage of a serving network', () => {
  const zones = parseZonesCsv(ZONES_CSV);

  it('finds every zone covering the country of the network, overlaps included', () => {
    // Germany is in Zone 1 and in the Belt and Road zone.
    expect(zonesCovering(zones, '26201').map((z) => z.id)).toEqual(['Z1', 'Z6']);
    // The United States have their own zone and are in Zone 7 too.
    expect(zonesCovering(zones, '310410').map((z) => z.id)).toEqual(['Z3', 'Z7']);
    expect(zonesCovering(zones, '44010').map((z) => z.id)).toEqual(['Z4']);
  });

  it('tells territories that share an MCC apart by their network', () => {
    expect(zonesCovering(zones, '23450').map((z) => z.id)).toEqual(['Z1']); // Jersey
    expect(zonesCovering(zones, '23458').map((z) => z.id)).toEqual(['Z2']); // Isle of Man
    expect(zonesCovering(zones, '23415').map((z) => z.id)).toEqual(['Z1']); // United Kingdom
  });

  it('covers nothing for China, an unknown MCC or an unreadable code', () => {
    expect(zonesCovering(zones, '46000')).toEqual([]);
    expect(zonesCovering(zones, '90128')).toEqual([]);
    expect(zonesCovering(zones, 'abc')).toEqual([]);
  });

  it('narrows a zone to single networks, accepting either MNC length', () => {
    const narrow: Zone[] = [
      { id: 'DE-T', name: 'Telekom Germany only', countries: ['AT'], networks: ['26201', '310410'] },
      { id: 'CN', name: 'China Mobile', countries: [], networks: ['460000'] },
    ];
    expect(zonesCovering(narrow, '26201').map((z) => z.id)).toEqual(['DE-T']);
    expect(zonesCovering(narrow, '262001').map((z) => z.id)).toEqual(['DE-T']);
    expect(zonesCovering(narrow, '26202')).toEqual([]);
    expect(zonesCovering(narrow, '23201').map((z) => z.id)).toEqual(['DE-T']);
    expect(zonesCovering(narrow, '46000').map((z) => z.id)).toEqual(['CN']);
    expect(zonesCovering(narrow, '46001')).toEqual([]);
  });

  it('answers from its index the same as the plain lookup', () => {
    const index = createZoneIndex(zones);
    for (const code of ['26201', '310410', '46000', '23450', 'x', '72402', '26201']) {
      expect(index.covering(code)).toEqual(zonesCovering(zones, code));
    }
    expect(index.covering('26201')).toBe(index.covering('26201'));
    expect(index.zoneById('Z3')?.countries).toEqual(['US']);
    expect(index.zoneById('Z9')).toBeUndefined();
  });
});

describe('zone validation', () => {
  it('names every problem', () => {
    const e = errorOf(() =>
      checkZones([
        { id: 'A', name: 'A', countries: ['DE', 'de', 'DE'], networks: ['26201', '2620'] },
        { id: 'A', name: ' ', countries: [], networks: [] },
      ]),
    );
    expect(e.code).toBe('invalid_zone');
    expect(e.details?.problems).toEqual([
      'zone A: "de" is not an ISO 3166-1 alpha-2 country code such as DE',
      'zone A: country DE is listed twice',
      'zone A: network 26201 is in DE, which the zone already covers whole; list either the country or its networks',
      'zone A: network "2620" must be MCC+MNC, 5 or 6 digits such as 26201',
      'zone A has no name',
      'zone A covers no country and no network',
      'zone id A is used twice',
    ]);
  });
});

describe('zones.csv errors', () => {
  it('names the line and the problem', () => {
    const text = 'zone,name,countries\nZ1,"Zone 1","DE FR"\nZ2,"Zone 2","DE Fr1"\nZ1,"Again","IT"\nZ4,"Short"\n';
    const e = errorOf(() => parseZonesCsv(text));
    expect(e.code).toBe('invalid_catalog');
    expect(e.details?.problems).toEqual([
      { line: 5, message: 'has 2 cell(s), the header has 3' },
      { line: 3, message: 'zone Z2: "Fr1" is not an ISO 3166-1 alpha-2 country code such as DE' },
      { line: 4, message: 'zone Z1 is already defined on line 2' },
    ]);
    expect(e.message).toMatch(/^zones\.csv line 5: has 2 cell\(s\)/);
  });

  it('accepts networks among the countries', () => {
    expect(parseZonesCsv('zone,name,countries\nZ9,"Telekom","AT 262-01 26202"\n')).toEqual([
      { id: 'Z9', name: 'Telekom', countries: ['AT'], networks: ['26201', '26202'] },
    ]);
  });

  it('refuses a wrong header, an empty file and broken quoting', () => {
    expect(errorOf(() => parseZonesCsv('zone,title,countries\n')).message).toBe(
      'zones.csv line 1: missing column(s) name and unknown column(s) title; expected zone,name,countries',
    );
    expect(errorOf(() => parseZonesCsv('')).message).toMatch(/line 1: the file is empty/);
    expect(errorOf(() => parseZonesCsv('zone,name,countries\nZ1,"Zone 1,DE\n')).details?.problems).toMatchObject([{ line: 2 }]);
  });

  it('reads a byte order mark and Windows line ends', () => {
    expect(parseZonesCsv('\uFEFFzone,name,countries\r\nZ1,Zone 1,DE FR\r\n')).toEqual([{ id: 'Z1', name: 'Zone 1', countries: ['DE', 'FR'], networks: [] }]);
  });
});

describe('zone price errors', () => {
  const zones: Zone[] = [{ id: 'Z1', name: 'Zone 1', countries: ['DE'], networks: [] }];
  const header = 'zone,monthly_1MB,monthly_1GB,sms_per_message';

  it('names the line, the zone, the tier and the problem of each bad price', () => {
    const text = `${header}\nZ1,3.355,abc,1.20\nZ8,1,2,3\nZ1,1,-2,0.5\n`;
    const e = errorOf(() => parseZonePricesCsv(text, { zones }));
    expect(e.details?.problems).toEqual([
      { line: 2, message: 'Z1 1MB monthly fee "3.355" has more than 2 decimal place(s)' },
      { line: 2, message: 'Z1 1GB monthly fee "abc" is not a decimal number such as 3.35' },
      { line: 3, message: 'zone Z8 is not in the zone list' },
      { line: 4, message: 'zone Z1 already has prices on line 2' },
      { line: 4, message: 'Z1 1GB monthly fee -2 is negative' },
    ]);
    expect(e.message).toMatch(/^zone_prices_cny\.csv line 2: /);
  });

  it('checks the tier columns of the header', () => {
    const e = errorOf(() => parseZonePricesCsv('zone,monthly_1GB,monthly_100MB,monthly_x,sms\n'));
    expect(e.details?.problems).toEqual([
      { line: 1, message: 'unknown column monthly_x; tier columns are named like monthly_100MB or monthly_1GB' },
      { line: 1, message: 'unknown column sms; tier columns are named like monthly_100MB or monthly_1GB' },
      { line: 1, message: 'missing column sms_per_message' },
      { line: 1, message: 'tier 100MB is not larger than the tier before it (1GB)' },
    ]);
  });

  it('reads prices in a currency without minor units', () => {
    const [row] = parseZonePricesCsv(`${header}\nZ1,300,1200,10\n`, { currency: 'JPY' });
    expect(row).toMatchObject({ currency: 'JPY', smsPriceMicros: 10_000_000 });
    expect(row!.tiers[1]!.monthlyFeeMicros).toBe(1_200_000_000);
  });
});

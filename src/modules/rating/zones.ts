/**
 * Zones: named sets of countries (ISO 3166-1 alpha-2), optionally narrowed to single networks (MCC-MNC). Zones may
 * overlap. Coverage of a serving network, and the parsers of the catalogue CSV files (zones.csv,
 * zone_prices_<currency>.csv). Pure: the files are read elsewhere and passed in as text.
 */
import { parse } from 'csv-parse/sync';
import { AppError, invalid } from '../../shared/errors.ts';
import { describePlmn, knownCountries, type Plmn } from '../network/plmn.ts';
import { currencyDigits, DEFAULT_CURRENCY, parseDecimal } from './money.ts';

export interface Zone {
  /** Short stable id, e.g. `Z1`. */
  id: string;
  name: string;
  /** Countries covered with all their networks. */
  countries: readonly string[];
  /** Single networks covered (MCC+MNC digits, `26201`), for countries not covered whole. */
  networks: readonly string[];
}

export const ZONE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const COUNTRY = /^[A-Z]{2}$/;
const NETWORK = /^\d{5,6}$/;

/** What is wrong with a zone; empty when it is valid. */
export function zoneProblems(zone: Zone): string[] {
  const problems: string[] = [];
  if (!ZONE_ID.test(zone.id)) problems.push(`zone id ${JSON.stringify(zone.id)} must be 1-32 letters, digits, '_', '.' or '-'`);
  if (!zone.name.trim()) problems.push(`zone ${zone.id} has no name`);
  if (zone.countries.length === 0 && zone.networks.length === 0) problems.push(`zone ${zone.id} covers no country and no network`);
  const seen = new Set<string>();
  for (const c of zone.countries) {
    if (!COUNTRY.test(c)) problems.push(`zone ${zone.id}: ${JSON.stringify(c)} is not an ISO 3166-1 alpha-2 country code such as DE`);
    else if (seen.has(c)) problems.push(`zone ${zone.id}: country ${c} is listed twice`);
    seen.add(c);
  }
  for (const n of zone.networks) {
    if (!NETWORK.test(n)) {
      problems.push(`zone ${zone.id}: network ${JSON.stringify(n)} must be MCC+MNC, 5 or 6 digits such as 26201`);
      continue;
    }
    if (seen.has(n)) problems.push(`zone ${zone.id}: network ${n} is listed twice`);
    seen.add(n);
    const country = describePlmn(n)?.country;
    if (country && zone.countries.includes(country)) {
      problems.push(`zone ${zone.id}: network ${n} is in ${country}, which the zone already covers whole; list either the country or its networks`);
    }
  }
  return problems;
}

/** Throws `invalid_zone` naming every problem of the zones, including duplicate ids. */
export function checkZones(zones: readonly Zone[]): void {
  const problems = zones.flatMap(zoneProblems);
  const ids = new Set<string>();
  for (const z of zones) {
    if (ids.has(z.id)) problems.push(`zone id ${z.id} is used twice`);
    ids.add(z.id);
  }
  if (problems.length) throw invalid('invalid_zone', problems.join('; '), { problems });
}

/** The same network written with the other MNC length (`460000` ↔ `46000`), as gateways pad or trim MNCs. */
function otherForm(mcc: string, mnc: string): string | null {
  if (mnc.length === 2) return `${mcc}0${mnc}`;
  return mnc.startsWith('0') ? `${mcc}${mnc.slice(1)}` : null;
}

/** True when the zone covers the serving network. */
export function zoneCovers(zone: Zone, plmn: Plmn): boolean {
  if (plmn.country !== null && zone.countries.includes(plmn.country)) return true;
  const alt = otherForm(plmn.mcc, plmn.mnc);
  return zone.networks.includes(plmn.mcc + plmn.mnc) || (alt !== null && zone.networks.includes(alt));
}

const NONE: readonly Zone[] = Object.freeze([]);

/** The zones covering a serving MCC-MNC, in catalogue order; none for an unreadable code. */
export function zonesCovering(zones: readonly Zone[], mccMnc: string): readonly Zone[] {
  const plmn = describePlmn(mccMnc);
  if (!plmn) return NONE;
  const out = zones.filter((z) => zoneCovers(z, plmn));
  return out.length ? out : NONE;
}

/** Zone lookups for the usage hot path: built once per catalogue, answers from a cache after the first lookup of a network. */
export interface ZoneIndex {
  readonly zones: readonly Zone[];
  zoneById(id: string): Zone | undefined;
  /** The zones covering a serving MCC-MNC, in catalogue order (the same array for the same code). */
  covering(mccMnc: string): readonly Zone[];
}

/** Most distinct serving-network codes the index remembers; codes seen after that are looked up each time. */
export const ZONE_INDEX_CACHE_LIMIT = 10_000;

export function createZoneIndex(zones: readonly Zone[]): ZoneIndex {
  checkZones(zones);
  const byId = new Map(zones.map((z) => [z.id, z]));
  const cache = new Map<string, readonly Zone[]>();
  return {
    zones,
    zoneById: (id) => byId.get(id),
    covering(mccMnc) {
      let hit = cache.get(mccMnc);
      if (hit === undefined) {
        hit = zonesCovering(zones, mccMnc);
        if (cache.size < ZONE_INDEX_CACHE_LIMIT) cache.set(mccMnc, hit);
      }
      return hit;
    },
  };
}

/** Countries of the zones that no MCC in the network table maps to: usage can never be rated there (e.g. TF). */
export function unmappedCountries(zones: readonly Zone[]): string[] {
  const known = knownCountries();
  const out = new Set<string>();
  for (const z of zones) for (const c of z.countries) if (!known.has(c)) out.add(c);
  return [...out].sort();
}

// --- catalogue CSV files ---------------------------------------------------------------------------------------

/** One problem of a catalogue file: the line (the header is line 1) and what is wrong. */
export interface CatalogProblem {
  line: number;
  message: string;
}

function catalogError(source: string, problems: CatalogProblem[]): AppError {
  const shown = problems.slice(0, 5).map((p) => `${source} line ${p.line}: ${p.message}`);
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
  return invalid('invalid_catalog', shown.join('; ') + more, { source, problems });
}

interface Table {
  header: string[];
  rows: { line: number; cells: string[] }[];
}

function readTable(text: string, source: string): Table {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const line = typeof (e as { lines?: unknown }).lines === 'number' ? (e as { lines: number }).lines : 1;
    throw catalogError(source, [{ line, message: `not readable as CSV: ${(e as Error).message}` }]);
  }
  const [head, ...body] = records;
  if (!head) throw catalogError(source, [{ line: 1, message: 'the file is empty; expected a header row' }]);
  return { header: head.record.map((h) => h.trim().toLowerCase()), rows: body.map((r) => ({ line: r.info.lines, cells: r.record })) };
}

function checkColumnCount(table: Table, problems: CatalogProblem[]): void {
  for (const row of table.rows) {
    if (row.cells.length !== table.header.length) {
      problems.push({ line: row.line, message: `has ${row.cells.length} cell(s), the header has ${table.header.length}` });
    }
  }
}

const ZONE_COLUMNS = ['zone', 'name', 'countries'];

/** Parses zones.csv: columns `zone`, `name`, `countries` (ISO codes separated by spaces). Throws `invalid_catalog`. */
export function parseZonesCsv(text: string, source = 'zones.csv'): Zone[] {
  const table = readTable(text, source);
  const missing = ZONE_COLUMNS.filter((c) => !table.header.includes(c));
  const unknown = table.header.filter((c) => !ZONE_COLUMNS.includes(c));
  if (missing.length || unknown.length) {
    const parts = [missing.length ? `missing column(s) ${missing.join(', ')}` : '', unknown.length ? `unknown column(s) ${unknown.join(', ')}` : ''];
    throw catalogError(source, [{ line: 1, message: `${parts.filter(Boolean).join(' and ')}; expected ${ZONE_COLUMNS.join(',')}` }]);
  }
  const col = (name: string) => table.header.indexOf(name);
  const problems: CatalogProblem[] = [];
  checkColumnCount(table, problems);
  const zones: Zone[] = [];
  const lineOfId = new Map<string, number>();
  for (const row of table.rows) {
    if (row.cells.length !== table.header.length) continue;
    const id = row.cells[col('zone')]!.trim();
    const name = row.cells[col('name')]!.trim();
    const members = row.cells[col('countries')]!.trim().split(/\s+/).filter(Boolean);
    const zone: Zone = {
      id,
      name,
      countries: members.filter((m) => !/^\d/.test(m)),
      networks: members.filter((m) => /^\d/.test(m)).map((m) => m.replace('-', '')),
    };
    for (const p of zoneProblems(zone)) problems.push({ line: row.line, message: p });
    const earlier = lineOfId.get(id);
    if (earlier !== undefined) problems.push({ line: row.line, message: `zone ${id} is already defined on line ${earlier}` });
    else lineOfId.set(id, row.line);
    zones.push(zone);
  }
  if (problems.length) throw catalogError(source, problems);
  return zones;
}

/** One monthly package of a zone's price list: included data and the monthly fee. */
export interface PriceTier {
  /** Label of the tier as in the file (`100MB`, `1GB`). */
  label: string;
  includedBytes: number;
  monthlyFeeMicros: number;
}

export interface ZonePrices {
  zoneId: string;
  currency: string;
  /** Ordered by included data, smallest first. */
  tiers: PriceTier[];
  smsPriceMicros: number;
}

const TIER_COLUMN = /^monthly_(\d+)(kb|mb|gb)$/;
const UNIT_BYTES: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Parses zone_prices_<currency>.csv: `zone`, one `monthly_<n>MB|GB` column per tier (monthly fee of a package with that
 * much data), `sms_per_message`. Prices are decimals in the major unit of `currency`, read exactly. With `zones`,
 * every row must name one of them. Throws `invalid_catalog`.
 */
export function parseZonePricesCsv(
  text: string,
  options: { currency?: string; zones?: readonly Zone[]; source?: string } = {},
): ZonePrices[] {
  const currency = options.currency ?? DEFAULT_CURRENCY;
  const source = options.source ?? `zone_prices_${currency.toLowerCase()}.csv`;
  const digits = currencyDigits(currency);
  const table = readTable(text, source);
  const headerProblems: string[] = [];
  const tiers: { index: number; label: string; bytes: number }[] = [];
  table.header.forEach((h, index) => {
    if (h === 'zone' || h === 'sms_per_message') return;
    const m = TIER_COLUMN.exec(h);
    if (!m) headerProblems.push(`unknown column ${h}; tier columns are named like monthly_100MB or monthly_1GB`);
    else tiers.push({ index, label: `${Number(m[1])}${m[2]!.toUpperCase()}`, bytes: Number(m[1]) * UNIT_BYTES[m[2]!]! });
  });
  for (const required of ['zone', 'sms_per_message']) if (!table.header.includes(required)) headerProblems.push(`missing column ${required}`);
  if (tiers.length === 0) headerProblems.push('no tier column (monthly_<size>MB or monthly_<size>GB)');
  for (let i = 1; i < tiers.length; i++) {
    if (tiers[i]!.bytes <= tiers[i - 1]!.bytes) headerProblems.push(`tier ${tiers[i]!.label} is not larger than the tier before it (${tiers[i - 1]!.label})`);
  }
  if (headerProblems.length) throw catalogError(source, headerProblems.map((message) => ({ line: 1, message })));
  const problems: CatalogProblem[] = [];
  checkColumnCount(table, problems);
  const zoneIds = options.zones ? new Set(options.zones.map((z) => z.id)) : null;
  const lineOfZone = new Map<string, number>();
  const out: ZonePrices[] = [];
  const zoneCol = table.header.indexOf('zone');
  const smsCol = table.header.indexOf('sms_per_message');
  for (const row of table.rows) {
    if (row.cells.length !== table.header.length) continue;
    const zoneId = row.cells[zoneCol]!.trim();
    if (!zoneId) problems.push({ line: row.line, message: 'the zone cell is empty' });
    else if (zoneIds && !zoneIds.has(zoneId)) problems.push({ line: row.line, message: `zone ${zoneId} is not in the zone list` });
    const earlier = lineOfZone.get(zoneId);
    if (earlier !== undefined) problems.push({ line: row.line, message: `zone ${zoneId} already has prices on line ${earlier}` });
    else lineOfZone.set(zoneId, row.line);
    const price = (index: number, what: string): number => {
      const cell = row.cells[index]!;
      try {
        const minor = parseDecimal(cell, digits, what);
        if (minor < 0) throw invalid('invalid_amount', `${what} ${cell} is negative`);
        return minor * 10 ** (6 - digits);
      } catch (e) {
        problems.push({ line: row.line, message: e instanceof AppError ? e.message : String(e) });
        return 0;
      }
    };
    const parsedTiers = tiers.map((t) => ({ label: t.label, includedBytes: t.bytes, monthlyFeeMicros: price(t.index, `${zoneId} ${t.label} monthly fee`) }));
    out.push({ zoneId, currency, tiers: parsedTiers, smsPriceMicros: price(smsCol, `${zoneId} SMS price`) });
  }
  if (problems.length) throw catalogError(source, problems);
  return out;
}

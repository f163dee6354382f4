/**
 * Communication plans and security policies (安全管控): services, APNs, directed access (定向), the IMEI lock
 * (机卡绑定) with its TAC rule, region restriction (区域限制/围栏), the daily data limit and abnormal traffic. Pure:
 * plans are compiled once into the form the RADIUS hot path checks against, and every check is a function of
 * that form, the SIM's bindings and what the network reported.
 */
import { isIP } from 'node:net';
import { invalid } from '../../shared/errors.ts';
import { describePlmn, knownCountries } from '../network/plmn.ts';
import type { Zone } from '../rating/zones.ts';
import { checkImei } from '../sims/sim.ts';

export const SERVICES = ['data', 'voice', 'sms'] as const;
export type Service = (typeof SERVICES)[number];

/** `off`; `first`: bound to the first IMEI seen; `tac`: any device with the bound IMEI's first 8 digits, up to N. */
export const IMEI_LOCK_MODES = ['off', 'first', 'tac'] as const;
export type ImeiLockMode = (typeof IMEI_LOCK_MODES)[number];

/** `off`; `allowed`: listed countries, zones and operators; `first_activation`: the country of the first session after the test period. */
export const REGION_MODES = ['off', 'allowed', 'first_activation'] as const;
export type RegionMode = (typeof REGION_MODES)[number];

/** What a policy violation is, as recorded and alerted. */
export const VIOLATION_KINDS = ['imei_mismatch', 'imei_blacklisted', 'out_of_region', 'high_risk_area', 'apn_not_allowed', 'data_limit', 'abnormal_traffic', 'directed_breakout'] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** Abnormal daily traffic threshold when a plan sets none: 150 MB (1 MB = 1,048,576 bytes). */
export const DEFAULT_ABNORMAL_DAILY_BYTES = 150 * 1024 * 1024;
/** Devices a TAC lock accepts when a plan sets no number (the carriers' ten). */
export const DEFAULT_TAC_MAX_DEVICES = 10;

export interface ImeiLock {
  mode: ImeiLockMode;
  /** Devices accepted under `tac`, the first bound one included. */
  maxDevices: number;
}

export interface RegionRule {
  mode: RegionMode;
  /** ISO 3166-1 alpha-2 countries (mode `allowed`). */
  countries: string[];
  /** Zones of the rating catalogue (mode `allowed`): their countries and networks are allowed. */
  zones: string[];
  /** Networks as MCC+MNC (mode `allowed`). */
  operators: string[];
}

/** A communication plan as stored and shown by the API. */
export interface CommPlan {
  id: string;
  accountId: string;
  name: string;
  services: Record<Service, boolean>;
  /** APNs a session may use; empty: any. */
  apns: string[];
  /** Directed access (定向): CIDRs and host names a SIM may reach; empty: not directed. */
  destinations: string[];
  /** Numbers SMS may go to when SMS is on; empty: none. */
  smsWhitelist: string[];
  imeiLock: ImeiLock;
  region: RegionRule;
  /** Data a SIM may use per local day; null: no daily limit. */
  dailyDataLimitBytes: number | null;
  /** Daily usage above which the SIM is flagged (alert once per day). */
  abnormalDailyBytes: number;
  createdAt: Date;
  updatedAt: Date;
}

export type CommPlanInput = Omit<CommPlan, 'id' | 'accountId' | 'createdAt' | 'updatedAt'>;

/** The plan a SIM without one (and without a group plan) is under: data only, nothing else restricted. */
export const DEFAULT_COMM_PLAN: CommPlanInput = Object.freeze<CommPlanInput>({
  name: 'default',
  services: { data: true, voice: false, sms: false },
  apns: [],
  destinations: [],
  smsWhitelist: [],
  imeiLock: { mode: 'off', maxDevices: DEFAULT_TAC_MAX_DEVICES },
  region: { mode: 'off', countries: [], zones: [], operators: [] },
  dailyDataLimitBytes: null,
  abnormalDailyBytes: DEFAULT_ABNORMAL_DAILY_BYTES,
});

// --- validation ---

const HOST = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const APN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,98}[A-Za-z0-9])?$/;
const NUMBER = /^\+?\d{3,15}$/;
const NETWORK = /^\d{5,6}$/;

/** A destination as IPv4/IPv6 CIDR (or single address), or a host name (`*.example.com` for its subdomains). */
export type Destination = { kind: 'cidr'; family: 4 | 6; address: string; bits: number } | { kind: 'host'; name: string };

/** Reads one destination whitelist entry; undefined when it is neither a CIDR nor a host name. */
export function parseDestination(entry: string): Destination | undefined {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 4 || family === 6) {
    const max = family === 4 ? 32 : 128;
    const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return undefined;
    return { kind: 'cidr', family, address, bits: Number(bitsText) };
  }
  return slash < 0 && HOST.test(text) ? { kind: 'host', name: text.toLowerCase() } : undefined;
}

/** Every problem of a plan's settings; `zoneIds` are the zones of the catalogue. Empty when valid. */
export function commPlanProblems(p: CommPlanInput, zoneIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  if (!p.name.trim()) problems.push('name must not be empty');
  for (const a of p.apns) if (!APN.test(a)) problems.push(`APN ${JSON.stringify(a)} must be letters, digits, '.' and '-' (at most 100)`);
  for (const d of p.destinations) {
    if (!parseDestination(d)) problems.push(`destination ${JSON.stringify(d)} must be an IPv4 or IPv6 address or CIDR (10.0.0.0/8) or a host name (api.example.com, *.example.com)`);
  }
  for (const n of p.smsWhitelist) if (!NUMBER.test(n)) problems.push(`SMS whitelist number ${JSON.stringify(n)} must be 3 to 15 digits, optionally with a leading +`);
  if (!Number.isInteger(p.imeiLock.maxDevices) || p.imeiLock.maxDevices < 1 || p.imeiLock.maxDevices > 1000) {
    problems.push(`imeiLock.maxDevices must be a whole number from 1 to 1000, not ${p.imeiLock.maxDevices}`);
  }
  const countries = knownCountries();
  for (const c of p.region.countries) if (!/^[A-Z]{2}$/.test(c) || !countries.has(c)) problems.push(`region country ${JSON.stringify(c)} is not an ISO 3166-1 alpha-2 code of a known network country (such as CN)`);
  for (const z of p.region.zones) if (!zoneIds.has(z)) problems.push(`region zone ${JSON.stringify(z)} is not a zone of the catalogue${zoneIds.size ? ` (zones: ${[...zoneIds].join(', ')})` : ''}`);
  for (const o of p.region.operators) if (!NETWORK.test(o)) problems.push(`region operator ${JSON.stringify(o)} must be MCC+MNC, 5 or 6 digits such as 46000`);
  if (p.region.mode === 'allowed' && p.region.countries.length + p.region.zones.length + p.region.operators.length === 0) {
    problems.push('region mode allowed needs at least one country, zone or operator');
  }
  if (p.dailyDataLimitBytes !== null && (!Number.isSafeInteger(p.dailyDataLimitBytes) || p.dailyDataLimitBytes < 1)) problems.push('dailyDataLimitBytes must be a whole number of bytes above 0, or null');
  if (!Number.isSafeInteger(p.abnormalDailyBytes) || p.abnormalDailyBytes < 1) problems.push('abnormalDailyBytes must be a whole number of bytes above 0');
  return problems;
}

/** Throws `invalid_comm_plan` naming every problem. */
export function checkCommPlan(p: CommPlanInput, zoneIds: ReadonlySet<string>): void {
  const problems = commPlanProblems(p, zoneIds);
  if (problems.length) throw invalid('invalid_comm_plan', problems.join('; '), { problems });
}

/** A high-risk area: a country (ISO alpha-2) or a network (MCC-MNC). */
export function highRiskKindOf(code: string): 'country' | 'network' | undefined {
  if (/^[A-Z]{2}$/.test(code)) return knownCountries().has(code) ? 'country' : undefined;
  return NETWORK.test(code) ? 'network' : undefined;
}

/** Throws `invalid_imei` unless 15 digits with the Luhn check digit. */
export function checkBlacklistImei(imei: string): void {
  const check = checkImei(imei);
  if (!check.ok) throw invalid(check.code, check.message);
}

// --- compiled form (hot path) ---

/** A plan compiled for the hot path: sets instead of lists, zones expanded, the Access-Accept filter rules made once. */
export interface CompiledPolicy {
  planId: string | null;
  services: Readonly<Record<Service, boolean>>;
  apns: ReadonlySet<string> | null;
  imeiLock: Readonly<ImeiLock>;
  regionMode: RegionMode;
  regionCountries: ReadonlySet<string>;
  regionNetworks: ReadonlySet<string>;
  /** The region as text for reasons: `CN, HK, Z1 (zone), 46000`. */
  regionText: string;
  dailyDataLimitBytes: number | null;
  abnormalDailyBytes: number;
  destinations: readonly Destination[];
  /** NAS-Filter-Rule (RFC 4849) values for Access-Accept; empty when not directed. */
  filterRules: readonly string[];
  /** Filter-Id (RFC 2865) for Access-Accept: the plan's named filter on the gateway; null when not directed. */
  filterId: string | null;
  smsWhitelist: ReadonlySet<string>;
}

/** The Filter-Id sent for a directed plan: gateways map it to a named filter (host names need one). */
export const filterIdOf = (planId: string): string => `meridian-${planId}`;

/**
 * NAS-Filter-Rule texts (RFC 4849, IPFilterRule of RFC 6733 §4.3) for a destination whitelist: one `permit` per
 * CIDR from the device ("in" to the NAS) and in return, then a final `deny`. Host names cannot be written in
 * IPFilterRule and travel only as the Filter-Id's named filter.
 */
export function filterRulesOf(destinations: readonly Destination[]): string[] {
  if (destinations.length === 0) return [];
  const rules: string[] = [];
  for (const d of destinations) {
    if (d.kind !== 'cidr') continue;
    const net = `${d.address}/${d.bits}`;
    rules.push(`permit in ip from any to ${net}`, `permit out ip from ${net} to any`);
  }
  rules.push('deny in ip from any to any', 'deny out ip from any to any');
  return rules;
}

/** Compiles a plan (or the default) against the zone catalogue. */
export function compilePolicy(plan: (CommPlanInput & { id?: string }) | undefined, zones: readonly Zone[]): CompiledPolicy {
  const p = plan ?? DEFAULT_COMM_PLAN;
  const countries = new Set(p.region.countries);
  const networks = new Set<string>();
  for (const o of p.region.operators) for (const form of networkForms(o)) networks.add(form);
  for (const id of p.region.zones) {
    const zone = zones.find((z) => z.id === id);
    for (const c of zone?.countries ?? []) countries.add(c);
    for (const n of zone?.networks ?? []) for (const form of networkForms(n)) networks.add(form);
  }
  const destinations = p.destinations.map(parseDestination).filter((d): d is Destination => d !== undefined);
  const planId = plan?.id ?? null;
  return {
    planId,
    services: { ...p.services },
    apns: p.apns.length ? new Set(p.apns.map((a) => a.toLowerCase())) : null,
    imeiLock: { ...p.imeiLock },
    regionMode: p.region.mode,
    regionCountries: countries,
    regionNetworks: networks,
    regionText: [...p.region.countries, ...p.region.zones.map((z) => `${z} (zone)`), ...p.region.operators].join(', '),
    dailyDataLimitBytes: p.dailyDataLimitBytes,
    abnormalDailyBytes: p.abnormalDailyBytes,
    destinations,
    filterRules: filterRulesOf(destinations),
    filterId: destinations.length && planId ? filterIdOf(planId) : null,
    smsWhitelist: new Set(p.smsWhitelist.map((n) => n.replace(/^\+/, ''))),
  };
}

/** The IMEI lock in force: the SIM's own when set, the plan's otherwise. */
export function imeiLockOf(policy: CompiledPolicy, own: ImeiLock | null): ImeiLock {
  return own ?? policy.imeiLock;
}

/** Whether a service is on under a policy (SMS and voice are off unless a plan turns them on). */
export function mayUseService(policy: Pick<CompiledPolicy, 'services'>, service: Service): boolean {
  return policy.services[service];
}

/** Whether an SMS may go to `number` under a policy: SMS on and the number whitelisted (定向短信). */
export function maySendSmsTo(policy: Pick<CompiledPolicy, 'services' | 'smsWhitelist'>, number: string): boolean {
  return policy.services.sms && policy.smsWhitelist.has(number.replace(/^\+/, ''));
}

// --- IMEI lock ---

/** Type Allocation Code: the first 8 digits of an IMEI, the device model. */
export const tacOf = (imei: string): string => imei.slice(0, 8);

/** The verdicts that carry nothing, shared and frozen so the hot path allocates none. */
const IMEI_OK: ImeiVerdict = Object.freeze({ kind: 'ok' });
const REGION_OK: RegionVerdict = Object.freeze({ kind: 'ok' });

export type ImeiVerdict =
  | { kind: 'ok' }
  /** First device seen: it becomes the bound one. */
  | { kind: 'bind'; imei: string }
  /** A sibling device (same TAC) accepted under a TAC lock: it joins the SIM's devices. */
  | { kind: 'add_device'; imei: string }
  | { kind: 'mismatch'; reason: string };

/**
 * Checks the device a SIM is seen in against its IMEI lock. `bound` is the bound IMEI (null: not bound yet),
 * `devices` the devices accepted so far (the bound one included).
 */
export function checkImeiLock(lock: ImeiLock, bound: string | null, devices: readonly string[], imei: string): ImeiVerdict {
  if (lock.mode === 'off') return IMEI_OK;
  if (bound === null) return { kind: 'bind', imei };
  if (imei === bound) return IMEI_OK;
  if (lock.mode === 'first') return { kind: 'mismatch', reason: `device IMEI ${imei} is not the bound IMEI ${bound}` };
  if (devices.includes(imei)) return IMEI_OK;
  if (tacOf(imei) !== tacOf(bound)) return { kind: 'mismatch', reason: `device IMEI ${imei} does not share the TAC ${tacOf(bound)} of the bound IMEI ${bound}` };
  const known = Math.max(devices.length, 1);
  if (known >= lock.maxDevices) return { kind: 'mismatch', reason: `device IMEI ${imei} would be device ${known + 1} of TAC ${tacOf(bound)}; at most ${lock.maxDevices} allowed` };
  return { kind: 'add_device', imei };
}

// --- region ---

/** The other MNC-length form of a network as well (`46000` and `460000`). */
function networkForms(mccMnc: string): string[] {
  const mcc = mccMnc.slice(0, 3);
  const mnc = mccMnc.slice(3);
  if (mnc.length === 2) return [mccMnc, `${mcc}0${mnc}`];
  return mnc.startsWith('0') ? [mccMnc, `${mcc}${mnc.slice(1)}`] : [mccMnc];
}

export type RegionVerdict = { kind: 'ok' } | { kind: 'bind'; country: string } | { kind: 'outside'; reason: string };

/**
 * Checks the serving network against a region rule. `country` is the serving network's country (from its MCC);
 * `inTest`: a SIM in its test period has no region binding yet. An unknown network is let through.
 */
export function checkRegion(policy: CompiledPolicy, boundCountry: string | null, mccMnc: string | null, country: string | null, inTest: boolean): RegionVerdict {
  if (policy.regionMode === 'off' || mccMnc === null) return REGION_OK;
  if (policy.regionMode === 'allowed') {
    if ((country !== null && policy.regionCountries.has(country)) || policy.regionNetworks.has(mccMnc)) return REGION_OK;
    return { kind: 'outside', reason: `serving network ${mccMnc}${country ? ` (${country})` : ''} is outside the allowed region ${policy.regionText}` };
  }
  if (inTest || country === null) return REGION_OK;
  if (boundCountry === null) return { kind: 'bind', country };
  if (country === boundCountry) return REGION_OK;
  return { kind: 'outside', reason: `serving network ${mccMnc} (${country}) is outside ${boundCountry}, the region of first activation` };
}

/** Serving networks whose country is remembered; the world has about a thousand, so the cap only bounds junk codes. */
const COUNTRY_CACHE_LIMIT = 10_000;
const countries = new Map<string, string | null>();

/** The country of a serving network, or null; remembered per code as reported, so the hot path pays the lookup once. */
export function countryOf(mccMnc: string | null): string | null {
  if (!mccMnc) return null;
  let country = countries.get(mccMnc);
  if (country === undefined) {
    country = describePlmn(mccMnc)?.country ?? null;
    if (countries.size < COUNTRY_CACHE_LIMIT) countries.set(mccMnc, country);
  }
  return country;
}

/** Operator-listed high-risk areas: countries and networks refused on every SIM. */
export interface HighRiskAreas {
  countries: ReadonlySet<string>;
  networks: ReadonlySet<string>;
}

/** The high-risk area a serving network is in, if any. */
export function highRiskArea(areas: HighRiskAreas, mccMnc: string | null, country: string | null): string | undefined {
  if (mccMnc === null) return undefined;
  if (country !== null && areas.countries.has(country)) return country;
  if (areas.networks.size === 0) return undefined;
  // NOTE: both MNC forms of every listed network are in the set, so for a 5- or 6-digit code one lookup as reported is enough.
  if (mccMnc.length === 5 || mccMnc.length === 6) return areas.networks.has(mccMnc) ? mccMnc : undefined;
  return networkForms(mccMnc).find((n) => areas.networks.has(n));
}

/** Builds the high-risk sets from the stored codes. */
export function highRiskAreasOf(codes: readonly string[]): HighRiskAreas {
  const countries = new Set<string>();
  const networks = new Set<string>();
  for (const c of codes) {
    if (/^[A-Z]{2}$/.test(c)) countries.add(c);
    else for (const form of networkForms(c)) networks.add(form);
  }
  return { countries, networks };
}

// --- APN, data limits, directed access ---

/** Whether a session may use an APN (any, when the plan lists none; an unreported APN is let through). */
export function apnAllowed(policy: CompiledPolicy, apn: string | null): boolean {
  return policy.apns === null || apn === null || policy.apns.has(apn) || policy.apns.has(apn.toLowerCase());
}

/** Whether a SIM's usage today has reached its daily data limit. */
export function dailyLimitReached(policy: CompiledPolicy, usageDayBytes: number): boolean {
  return policy.dailyDataLimitBytes !== null && usageDayBytes >= policy.dailyDataLimitBytes;
}

/** Whether a SIM's usage today is abnormal (above the plan's threshold). */
export function abnormalTraffic(policy: CompiledPolicy, usageDayBytes: number): boolean {
  return usageDayBytes > policy.abnormalDailyBytes;
}

function ipv4ToInt(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

function ipv6ToBigInt(a: string): bigint {
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function inCidr(d: Extract<Destination, { kind: 'cidr' }>, address: string, family: number): boolean {
  if (d.family !== family) return false;
  if (family === 4) {
    if (d.bits === 0) return true;
    const mask = (0xffffffff << (32 - d.bits)) >>> 0;
    return (ipv4ToInt(address) & mask) === (ipv4ToInt(d.address) & mask);
  }
  const shift = BigInt(128 - d.bits);
  return ipv6ToBigInt(address) >> shift === ipv6ToBigInt(d.address) >> shift;
}

/** Whether a destination (IP address or host name) is within a directed plan's whitelist; any, when not directed. */
export function destinationAllowed(policy: Pick<CompiledPolicy, 'destinations'>, destination: string): boolean {
  if (policy.destinations.length === 0) return true;
  const target = destination.trim().toLowerCase();
  const family = isIP(target);
  for (const d of policy.destinations) {
    if (d.kind === 'cidr') {
      if (family && inCidr(d, target, family)) return true;
    } else if (d.name.startsWith('*.') ? target.endsWith(d.name.slice(1)) : target === d.name) return true;
  }
  return false;
}

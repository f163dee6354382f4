/** Network gateways (RADIUS clients, NAS): types, address rules and source-address matching. Pure, no I/O. */

export interface Gateway {
  id: string;
  accountId: string;
  name: string;
  /** An IP address or a CIDR block, in canonical form (see `parseGatewayAddress`). */
  address: string;
  /** RADIUS shared secret, as given. Never returned by the API: see `maskSecret`. */
  secret: string;
  /** UDP port of the gateway's Dynamic Authorization server (RFC 5176). */
  coaPort: number;
  /** The RADIUS attribute the gateway reports the destination class in (`attr:N`, `vsa:VENDOR:TYPE`); null: none. */
  destinationClassAttribute: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DEFAULT_COA_PORT = 3799;
export const SECRET_MIN_LENGTH = 8;
export const SECRET_MAX_LENGTH = 128;

export type IpFamily = 4 | 6;

/** A parsed IP address: the family and the address as an unsigned integer. */
export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

/** A parsed gateway address: a network and its prefix length (32 or 128 for a single address). */
export interface IpBlock extends IpAddress {
  prefix: number;
  /** Canonical text: IPv4 dotted quad, IPv6 compressed lower case (RFC 5952), `/prefix` unless a single address. */
  canonical: string;
}

export type AddressCheck = { ok: true; block: IpBlock } | { ok: false; code: string; message: string };

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };
const ALLOWED_FORMS = 'an IPv4 address (10.1.2.3), an IPv6 address (2001:db8::1) or a CIDR block (10.1.0.0/16, 2001:db8::/32)';

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // NOTE: leading zeros are refused: some tools read 010 as octal, so its meaning would be ambiguous.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Colon-separated hex groups; an embedded IPv4 address may end the text when `ipv4Tail` (counts as two groups). */
function parseGroups(text: string, ipv4Tail: boolean): bigint[] | null {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (ipv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(BigInt(`0x${part}`));
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 2 ? explicit > 7 : explicit !== 8) return null;
  const groups = [...head, ...Array<bigint>(8 - explicit).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) become IPv4. */
export function parseIp(text: string): IpAddress | null {
  const t = text.trim();
  if (t.includes(':')) {
    const value = parseIpv6(t);
    if (value === null) return null;
    // ::ffff:0:0/96 holds IPv4-mapped addresses (what a dual-stack socket reports for IPv4 senders).
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIpv4(t);
  return value === null ? null : { family: 4, value };
}

/** Text form of an address: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Validates a gateway address (an IP address or a CIDR block) and gives its canonical form. */
export function parseGatewayAddress(text: string): AddressCheck {
  const raw = text.trim();
  const invalid = (detail = ''): AddressCheck => ({
    ok: false,
    code: 'invalid_gateway_address',
    message: `${JSON.stringify(text)} is not a valid gateway address${detail}; use ${ALLOWED_FORMS}`,
  });
  const slash = raw.indexOf('/');
  const ipText = slash === -1 ? raw : raw.slice(0, slash);
  if (ipText.includes('%')) return invalid(' (zone indexes such as %eth0 are not allowed)');
  const isV6Text = ipText.includes(':');
  const ip = parseIp(ipText);
  if (!ip) return invalid();
  // An IPv4-mapped block (::ffff:10.0.0.0/104) is the IPv4 block it maps: packets from dual-stack sockets are matched as IPv4.
  const mappedShift = isV6Text && ip.family === 4 ? 96 : 0;
  let prefix = BITS[ip.family];
  if (slash !== -1) {
    const prefixText = raw.slice(slash + 1);
    const max = BITS[ip.family] + mappedShift;
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > max) {
      return invalid(` (the prefix length must be a whole number from 0 to ${max})`);
    }
    prefix = Number(prefixText) - mappedShift;
    if (prefix < 0) return invalid(' (an IPv4-mapped block needs a prefix of at least /96)');
  }
  const hostBits = BigInt(BITS[ip.family] - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  if (network !== ip.value) {
    const suggestion = `${formatIp({ family: ip.family, value: network })}/${prefix}`;
    return {
      ok: false,
      code: 'invalid_gateway_address',
      message: `${JSON.stringify(text)} has address bits set outside its /${prefix} prefix; the block is ${suggestion}`,
    };
  }
  const host = formatIp(ip);
  const canonical = prefix === BITS[ip.family] ? host : `${host}/${prefix}`;
  return { ok: true, block: { family: ip.family, value: network, prefix, canonical } };
}

/** True when `ip` lies in `block`. */
export function blockContains(block: IpBlock, ip: IpAddress): boolean {
  if (block.family !== ip.family) return false;
  const hostBits = BigInt(BITS[block.family] - block.prefix);
  return ip.value >> hostBits === block.value >> hostBits;
}

/** A gateway table compiled once for fast lookups by source address (the RADIUS server's per-packet question). */
export interface GatewayTable<G> {
  /** The gateway whose address or block contains `ip`, the most specific (longest prefix) first; undefined if none. */
  match(ip: string): G | undefined;
  readonly size: number;
}

/** Compiles gateways into a lookup table; entries whose address does not parse are left out. */
export function compileGatewayTable<G extends { address: string }>(gateways: readonly G[]): GatewayTable<G> {
  const hosts = new Map<string, G>();
  const blocks: { block: IpBlock; gateway: G }[] = [];
  for (const gateway of gateways) {
    const parsed = parseGatewayAddress(gateway.address);
    if (!parsed.ok) continue;
    const { block } = parsed;
    if (block.prefix === BITS[block.family]) {
      const key = `${block.family}:${block.value}`;
      if (!hosts.has(key)) hosts.set(key, gateway);
    } else {
      blocks.push({ block, gateway });
    }
  }
  // NOTE: stable sort keeps the given order among equal prefixes, so ties resolve the same way every time.
  blocks.sort((a, b) => b.block.prefix - a.block.prefix);
  return {
    size: hosts.size + blocks.length,
    match(text: string): G | undefined {
      const ip = parseIp(text);
      if (!ip) return undefined;
      const host = hosts.get(`${ip.family}:${ip.value}`);
      if (host) return host;
      return blocks.find((b) => blockContains(b.block, ip))?.gateway;
    },
  };
}

/** The gateway a packet from `ip` belongs to: exact address first, then the most specific CIDR block. */
export function matchGateway<G extends { address: string }>(gateways: readonly G[], ip: string): G | undefined {
  return compileGatewayTable(gateways).match(ip);
}

/** The form of a secret shown by the API: its first two characters and a fixed mask (the length is not revealed). */
export const maskSecret = (secret: string): string => `${secret.slice(0, 2)}****`;

export type SecretCheck = { ok: true } | { ok: false; code: string; message: string };

export function checkSecret(secret: string): SecretCheck {
  if (secret.length < SECRET_MIN_LENGTH || secret.length > SECRET_MAX_LENGTH) {
    return {
      ok: false,
      code: 'invalid_gateway_secret',
      message: `the shared secret must be ${SECRET_MIN_LENGTH} to ${SECRET_MAX_LENGTH} characters; it has ${secret.length}`,
    };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(secret)) {
    return { ok: false, code: 'invalid_gateway_secret', message: 'the shared secret must not contain control characters' };
  }
  return { ok: true };
}

export function checkCoaPort(port: number): SecretCheck {
  return Number.isInteger(port) && port >= 1 && port <= 65535
    ? { ok: true }
    : { ok: false, code: 'invalid_coa_port', message: `CoA port ${port} must be a whole number from 1 to 65535` };
}

/** Where in an Accounting-Request a gateway reports the destination class: a standard attribute or a vendor one. */
export interface AttributeRef {
  /** 0: a standard attribute (`type` is its number); otherwise the vendor's IANA enterprise number. */
  vendorId: number;
  type: number;
}

const ATTRIBUTE_REF_FORMS = 'attr:N for a standard attribute (attr:11 is Filter-Id) or vsa:VENDOR:TYPE for a vendor-specific one (vsa:10415:13)';

/** Reads a destination-class attribute setting: `attr:N` (1-255) or `vsa:VENDOR:TYPE` (enterprise number, sub-type). */
export function parseAttributeRef(text: string): { ok: true; ref: AttributeRef } | { ok: false; code: string; message: string } {
  const fail = { ok: false as const, code: 'invalid_destination_class_attribute', message: `destinationClassAttribute ${JSON.stringify(text)} must be ${ATTRIBUTE_REF_FORMS}` };
  const std = /^attr:(\d{1,3})$/.exec(text);
  if (std) {
    const type = Number(std[1]);
    // NOTE: Vendor-Specific (26) is named by its vendor and sub-type instead; 0 is no attribute.
    return type >= 1 && type <= 255 && type !== 26 ? { ok: true, ref: { vendorId: 0, type } } : fail;
  }
  const vsa = /^vsa:(\d{1,10}):(\d{1,10})$/.exec(text);
  if (vsa) {
    const vendorId = Number(vsa[1]);
    const type = Number(vsa[2]);
    return vendorId >= 1 && vendorId <= 0xffffffff && type <= 0xffffffff ? { ok: true, ref: { vendorId, type } } : fail;
  }
  return fail;
}

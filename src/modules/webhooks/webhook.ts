/** Webhook endpoints and deliveries: types, URL rules, retry schedule, envelope and signature. Pure, no I/O. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { matchesEventType, type StoredEvent } from '../events/event.ts';

export const ENDPOINT_STATES = ['enabled', 'paused'] as const;
export type EndpointState = (typeof ENDPOINT_STATES)[number];

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Endpoints one account may have. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 50;
export const URL_MAX_LENGTH = 2000;
export const SIGNATURE_HEADER = 'Meridian-Signature';

export interface WebhookEndpoint {
  id: string;
  accountId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  secret: string;
  state: EndpointState;
  pausedReason: string | null;
  pausedAt: Date | null;
  consecutiveFailures: number;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Delivery {
  id: number;
  endpointId: string;
  accountId: string;
  eventId: string;
  eventType: string;
  replay: boolean;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface DeliveryAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  ok: boolean;
}

/** How deliveries are retried and when a failing endpoint is paused. */
export interface RetryPolicy {
  /** First retry waits up to this long; each further one up to twice as long as the one before. */
  baseMs: number;
  /** No single wait is longer than this. */
  maxMs: number;
  /** A delivery not delivered within this time of its creation is `failed`. */
  windowMs: number;
  /** An endpoint is paused after this many failed attempts in a row… */
  pauseAfterFailures: number;
  /** …once its first failure of that run is at least this long ago. */
  pauseAfterMs: number;
}

/** The smallest wait before a retry, so a zero draw of the jitter does not retry at once. */
export const MIN_RETRY_MS = 1000;

/**
 * Wait before the next attempt after `attempts` failed ones: exponential backoff with full jitter, a uniform draw
 * from [0, min(maxMs, baseMs × 2^(attempts-1))], at least MIN_RETRY_MS.
 */
export function retryDelayMs(attempts: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.max(MIN_RETRY_MS, Math.floor(random() * ceiling));
}

/** The next attempt's time after a failure, or null when the delivery is out of its retry window and fails. */
export function nextAttemptAfterFailure(createdAt: Date, now: Date, attempts: number, policy: RetryPolicy, random: () => number): Date | null {
  const next = now.getTime() + retryDelayMs(attempts, policy, random);
  return next > createdAt.getTime() + policy.windowMs ? null : new Date(next);
}

/** True when an endpoint with these figures is to be paused. */
export function shouldPause(consecutiveFailures: number, failingSince: Date | null, now: Date, policy: RetryPolicy): boolean {
  return failingSince !== null && consecutiveFailures >= policy.pauseAfterFailures && now.getTime() - failingSince.getTime() >= policy.pauseAfterMs;
}

/** What the owner notice of a pause says about an endpoint. */
export interface PausedEndpoint {
  url: string;
  consecutiveFailures: number;
  failingSince: Date | null;
  lastError: string | null;
}

/** The reason given in the owner's e-mail about a paused endpoint, in the e-mail's language. */
export function pauseNoticeReason(e: PausedEndpoint, lang: 'zh' | 'en'): string {
  const since = e.failingSince?.toISOString() ?? null;
  if (lang === 'zh') {
    return `自 ${since ?? '暂停前'} 起连续 ${e.consecutiveFailures} 次推送失败${e.lastError ? `，最近一次错误：${e.lastError}` : ''}`;
  }
  return `${e.consecutiveFailures} failed deliveries in a row${since ? ` since ${since}` : ''}${e.lastError ? `; last error: ${e.lastError}` : ''}`;
}

/** Does the endpoint (of the account at `endpointPath`) receive this event (of the account at `eventPath`)? */
export function endpointReceives(endpoint: { eventTypes: string[]; path: string }, event: { type: string; path: string | null }): boolean {
  return event.path !== null && event.path.startsWith(endpoint.path) && endpoint.eventTypes.some((p) => matchesEventType(p, event.type));
}

/** Address ranges an endpoint may not point at unless the operator allows private targets, with what they are. */
const PRIVATE_RANGES: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
];
const privateRanges = PRIVATE_RANGES.map(([network, prefix, family, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, what };
});

/**
 * What makes a URL's host a loopback, link-local or private target (`a loopback address`), or null. Literal
 * addresses (IPv4-mapped IPv6 ones included) and `localhost` names are recognised; other names are not resolved.
 */
export function privateTargetOf(url: URL): string | null {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback address';
  const address = host.startsWith('[') ? host.slice(1, -1) : host;
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return privateRanges.find((r) => r.list.check(address, type))?.what ?? null;
}

/** A problem with an endpoint URL, or null when it is usable; private targets only when `allowPrivate`. */
export function checkEndpointUrl(raw: string, options: { allowPrivate?: boolean } = {}): string | null {
  if (raw.length > URL_MAX_LENGTH) return `the URL is longer than ${URL_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${raw} is not an absolute URL; expected something like https://example.com/meridian/events`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `the URL must be http:// or https://, not ${url.protocol}//`;
  if (url.username || url.password) return 'the URL must not carry a user name or password; the signature authenticates Meridian';
  if (url.hash) return 'the URL must not have a #fragment';
  if (!options.allowPrivate) {
    const target = privateTargetOf(url);
    if (target) return `the URL's host ${url.hostname} is ${target}; webhooks go to public addresses unless the operator sets WEBHOOK_ALLOW_PRIVATE=true`;
  }
  return null;
}

/** The CloudEvents 1.0 structured-mode envelope of an event, as sent in the body. */
export function envelopeOf(e: StoredEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: e.id,
    type: e.type,
    source: `/accounts/${e.accountId}`,
    subject: `${e.subject.kind}/${e.subject.id}`,
    time: e.occurredAt.toISOString(),
    datacontenttype: 'application/json',
    sequence: String(e.sequence),
    accountid: e.accountId,
    data: e.data,
  };
}

/** Hex HMAC-SHA256 of `${timestamp}.${body}` with the endpoint's secret. */
export const signatureOf = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The `Meridian-Signature` header value: `t=<unix seconds>,v1=<hex>`. */
export const signatureHeader = (secret: string, timestamp: number, body: string): string => `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`;

/** Checks a `Meridian-Signature` header as a receiver would; `toleranceSeconds` bounds the age of the timestamp. */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

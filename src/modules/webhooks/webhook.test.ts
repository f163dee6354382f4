import { describe, expect, it } from 'vitest';
import { matchesEventType } from '../events/event.ts';
import { checkEndpointUrl, endpointReceives, nextAttemptAfterFailure, retryDelayMs, shouldPause, signatureHeader, verifySignature } from './webhook.ts';

const policy = { baseMs: 30_000, maxMs: 3_600_000, windowMs: 24 * 3_600_000, pauseAfterFailures: 20, pauseAfterMs: 3_600_000 };

describe('webhook rules', () => {
  it('matches exact types, prefix patterns and *', () => {
    expect(matchesEventType('sim.state_changed', 'sim.state_changed')).toBe(true);
    expect(matchesEventType('sim.*', 'sim.state_changed')).toBe(true);
    expect(matchesEventType('sim.*', 'simcard.x')).toBe(false);
    expect(matchesEventType('*', 'alert.raised')).toBe(true);
    expect(matchesEventType('alert.raised', 'alert.handled')).toBe(false);
  });

  it("sends an endpoint only its own subtree's events", () => {
    const endpoint = { eventTypes: ['*'], path: '/root/r1/' };
    expect(endpointReceives(endpoint, { type: 'x.y', path: '/root/r1/e1/' })).toBe(true);
    expect(endpointReceives(endpoint, { type: 'x.y', path: '/root/r1/' })).toBe(true);
    expect(endpointReceives(endpoint, { type: 'x.y', path: '/root/r10/' })).toBe(false);
    expect(endpointReceives(endpoint, { type: 'x.y', path: '/root/' })).toBe(false);
    expect(endpointReceives(endpoint, { type: 'x.y', path: null })).toBe(false);
  });

  it('waits with full jitter under an exponential ceiling, at least a second, at most the cap', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(1000);
    expect(retryDelayMs(1, policy, () => 0.999999)).toBe(29_999);
    expect(retryDelayMs(3, policy, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(30, policy, () => 0.999999)).toBe(3_599_996);
    const created = new Date('2026-01-01T00:00:00Z');
    expect(nextAttemptAfterFailure(created, new Date('2026-01-01T23:00:00Z'), 10, policy, () => 0.1)).toEqual(new Date('2026-01-01T23:06:00Z'));
    expect(nextAttemptAfterFailure(created, new Date('2026-01-01T23:59:00Z'), 10, policy, () => 0.1)).toBeNull();
  });

  it('pauses after N failures in a row only once the run is old enough', () => {
    const now = new Date('2026-01-01T02:00:00Z');
    expect(shouldPause(20, new Date('2026-01-01T01:00:00Z'), now, policy)).toBe(true);
    expect(shouldPause(19, new Date('2026-01-01T00:00:00Z'), now, policy)).toBe(false);
    expect(shouldPause(500, new Date('2026-01-01T01:30:00Z'), now, policy)).toBe(false);
    expect(shouldPause(500, null, now, policy)).toBe(false);
  });

  it('signs t.body with HMAC-SHA256 and verifies within the tolerance only', () => {
    const header = signatureHeader('whsec_test', 1_700_000_000, '{"a":1}');
    expect(header).toBe('t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789');
    expect(verifySignature('whsec_test', header, '{"a":1}', 1_700_000_100)).toBe(true);
    expect(verifySignature('whsec_test', header, '{"a":2}', 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_other', header, '{"a":1}', 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_test', header, '{"a":1}', 1_700_000_400)).toBe(false);
    expect(verifySignature('whsec_test', 'garbage', '{"a":1}', 1_700_000_000)).toBe(false);
  });

  it('takes http(s) URLs without credentials or fragments', () => {
    expect(checkEndpointUrl('https://erp.example.com/hooks?x=1')).toBeNull();
    expect(checkEndpointUrl('http://127.0.0.1:3000/', { allowPrivate: true })).toBeNull();
    expect(checkEndpointUrl('ftp://x.example')).toContain('http:// or https://');
    expect(checkEndpointUrl('https://u:p@x.example')).toContain('user name or password');
    expect(checkEndpointUrl('https://x.example/#a')).toContain('fragment');
    expect(checkEndpointUrl('not a url')).toContain('absolute URL');
  });

  it('refuses loopback, link-local and private hosts unless allowed', () => {
    const refused: [string, string][] = [
      ['http://127.0.0.1:3000/', 'loopback'],
      ['http://127.1/', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://localhost:8080/x', 'loopback'],
      ['http://api.localhost/', 'loopback'],
      ['http://LOCALHOST./', 'loopback'],
      ['http://[::1]/', 'loopback'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['https://10.1.2.3/', 'private'],
      ['https://172.31.255.1/', 'private'],
      ['https://192.168.0.10/', 'private'],
      ['https://[fd12::1]/', 'private'],
      ['https://100.64.0.1/', 'shared'],
      ['http://169.254.169.254/latest/meta-data', 'link-local'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://0.0.0.0/', 'unspecified'],
    ];
    for (const [url, what] of refused) {
      expect(checkEndpointUrl(url), url).toContain(what);
      expect(checkEndpointUrl(url), url).toContain('WEBHOOK_ALLOW_PRIVATE=true');
      expect(checkEndpointUrl(url, { allowPrivate: true }), url).toBeNull();
    }
    for (const url of ['https://172.32.0.1/', 'https://8.8.8.8/', 'https://[2001:db8::1]/', 'https://localhost.example.com/', 'https://10.example.com/']) {
      expect(checkEndpointUrl(url), url).toBeNull();
    }
  });
});

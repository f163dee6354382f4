import { describe, expect, it } from 'vitest';
import { TrafficClassifier, type TrafficRule, trafficRuleProblems } from './traffic-class.ts';

const rule = (over: Partial<TrafficRule> & { id: string }): TrafficRule => ({ accountId: 'a', priority: 100, apn: null, zoneId: null, destinationClass: null, trafficClass: 'telematics', payerAccountId: 'p', ...over });
const paths = new Map([
  ['a', '/op/a/'],
  ['b', '/op/a/b/'],
  ['c', '/op/c/'],
]);

describe('split-billing classification', () => {
  it('takes the first matching rule by priority, for the SIMs of the account and the accounts under it', () => {
    const c = new TrafficClassifier(
      [rule({ id: 'r1', apn: 'media.*', trafficClass: 'infotainment', payerAccountId: 'driver' }), rule({ id: 'r2', priority: 1, zoneId: 'EU', trafficClass: 'roaming' }), rule({ id: 'r3', accountId: 'c', apn: 'media.car' })],
      (id) => paths.get(id),
    );
    expect(c.classify('b', 'MEDIA.car', 'CN')).toEqual({ trafficClass: 'infotainment', payerAccountId: 'driver' });
    expect(c.classify('b', 'media.car', 'EU')).toEqual({ trafficClass: 'roaming', payerAccountId: 'p' });
    expect(c.classify('a', 'iot.apn', 'CN')).toEqual({ trafficClass: null, payerAccountId: null });
    expect(c.classify('c', 'media.car', null)).toEqual({ trafficClass: 'telematics', payerAccountId: 'p' });
    expect(c.classify('c', 'media.carx', null)).toEqual({ trafficClass: null, payerAccountId: null });
  });

  it('matches the destination class the gateway reported, exactly or by prefix, ignoring case', () => {
    const c = new TrafficClassifier(
      [rule({ id: 'r1', destinationClass: 'video.*', trafficClass: 'video', payerAccountId: 'media' }), rule({ id: 'r2', destinationClass: 'rg-2000', apn: 'iot.car', trafficClass: 'maps' })],
      (id) => paths.get(id),
    );
    expect(c.classify('b', 'iot.car', 'CN', 'VIDEO.stream')).toEqual({ trafficClass: 'video', payerAccountId: 'media' });
    expect(c.classify('b', 'iot.car', 'CN', 'rg-2000')).toEqual({ trafficClass: 'maps', payerAccountId: 'p' });
    expect(c.classify('b', 'other.apn', 'CN', 'rg-2000')).toEqual({ trafficClass: null, payerAccountId: null });
    expect(c.classify('b', 'iot.car', 'CN', null)).toEqual({ trafficClass: null, payerAccountId: null });
    expect(c.classify('b', 'iot.car', 'CN')).toEqual({ trafficClass: null, payerAccountId: null });
    expect(trafficRuleProblems({ priority: 1, apn: null, zoneId: null, destinationClass: 'bad class', trafficClass: 'x' })).toEqual([expect.stringContaining('destinationClass')]);
  });

  it('keeps the SIM account as payer when the rule names it, and checks the fields', () => {
    const c = new TrafficClassifier([rule({ id: 'r1', payerAccountId: 'a' })], (id) => paths.get(id));
    expect(c.classify('a', null, null)).toEqual({ trafficClass: 'telematics', payerAccountId: null });
    expect(trafficRuleProblems({ priority: -1, apn: 'bad apn', zoneId: null, trafficClass: 'X' })).toHaveLength(3);
  });
});

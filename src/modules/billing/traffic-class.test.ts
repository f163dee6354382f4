import { describe, expect, it } from 'vitest';
import { TrafficClassifier, type TrafficRule, trafficRuleProblems } from './traffic-class.ts';

const rule = (over: Partial<TrafficRule> & { id: string }): TrafficRule => ({ accountId: 'a', priority: 100, apn: null, zoneId: null, trafficClass: 'telematics', payerAccountId: 'p', ...over });
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

  it('keeps the SIM account as payer when the rule names it, and checks the fields', () => {
    const c = new TrafficClassifier([rule({ id: 'r1', payerAccountId: 'a' })], (id) => paths.get(id));
    expect(c.classify('a', null, null)).toEqual({ trafficClass: 'telematics', payerAccountId: null });
    expect(trafficRuleProblems({ priority: -1, apn: 'bad apn', zoneId: null, trafficClass: 'X' })).toHaveLength(3);
  });
});

import { describe, expect, it } from 'vitest';
import { compilePolicy, DEFAULT_COMM_PLAN } from '../policies/policy.ts';
import { createRatePlan, MB } from '../rating/rate-plan.ts';
import { chargeSms, smsDedupeKey, smsRefusal } from './sms-usage.ts';

const plan = createRatePlan({
  id: 'p',
  name: 'P',
  effectiveFrom: new Date('2026-01-01T00:00:00Z'),
  monthlyFeeMicros: 0,
  includedBytes: MB,
  includedSms: 3,
  smsPriceMicros: 120_000,
  coverageZoneIds: ['CN'],
  overage: null,
});

describe('SMS as usage', () => {
  it('uses the included SMS of the cycle first, then charges each message at the plan price; free in the test period', () => {
    expect(chargeSms(plan, 0, 2, false)).toEqual({ testParts: 0, includedParts: 2, chargedParts: 0, chargeMicros: 0 });
    expect(chargeSms(plan, 2, 3, false)).toEqual({ testParts: 0, includedParts: 1, chargedParts: 2, chargeMicros: 240_000 });
    expect(chargeSms(plan, 9, 1, false)).toEqual({ testParts: 0, includedParts: 0, chargedParts: 1, chargeMicros: 120_000 });
    expect(chargeSms(plan, 9, 4, true)).toEqual({ testParts: 4, includedParts: 0, chargedParts: 0, chargeMicros: 0 });
    expect(chargeSms(undefined, 0, 1, false)).toEqual({ testParts: 0, includedParts: 0, chargedParts: 0, chargeMicros: 0 });
  });

  it('refuses SMS when the plan has SMS off, or its whitelist lacks the sender', () => {
    expect(smsRefusal(compilePolicy(undefined, []), '8986', '10690000')).toMatchObject({ code: 'sms_service_off', message: expect.stringContaining('default communication plan') });
    const on = compilePolicy({ ...DEFAULT_COMM_PLAN, id: 'cp', services: { data: true, voice: false, sms: true } }, []);
    expect(smsRefusal(on, '8986', '10690000')).toBeNull();
    const listed = compilePolicy({ ...DEFAULT_COMM_PLAN, id: 'cp', services: { data: true, voice: false, sms: true }, smsWhitelist: ['+10690001'] }, []);
    expect(smsRefusal(listed, '8986', '10690000')).toMatchObject({ code: 'sms_not_whitelisted', message: expect.stringContaining('10690001') });
    expect(smsRefusal(listed, '8986', '+10690001')).toBeNull();
    expect(smsRefusal(listed, '8986', null)).toBeNull();
  });

  it('keys an MT message by itself and an MO message by its device reference, sender, day and text', () => {
    const at = new Date('2026-01-15T02:00:00Z');
    expect(smsDedupeKey({ direction: 'mt', smsId: 'sms_1', msisdn: '86', text: 'x', at }, 7)).toBe('mt:sms_1');
    expect(smsDedupeKey({ direction: 'mo', smsId: 'sms_2', msisdn: '86', text: 'x', at }, undefined)).toBe('mo:sms_2');
    const a = smsDedupeKey({ direction: 'mo', smsId: 'sms_3', msisdn: '86', text: 'x', at }, 7);
    expect(smsDedupeKey({ direction: 'mo', smsId: 'sms_4', msisdn: '86', text: 'x', at }, 7)).toBe(a);
    expect(smsDedupeKey({ direction: 'mo', smsId: 'sms_4', msisdn: '86', text: 'y', at }, 7)).not.toBe(a);
  });
});

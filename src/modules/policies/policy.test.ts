import { describe, expect, it } from 'vitest';
import {
  abnormalTraffic,
  apnAllowed,
  checkImeiLock,
  checkRegion,
  commPlanProblems,
  compilePolicy,
  countryOf,
  DEFAULT_COMM_PLAN,
  type CommPlanInput,
  dailyLimitReached,
  destinationAllowed,
  highRiskArea,
  highRiskAreasOf,
  maySendSmsTo,
  mayUseService,
  parseDestination,
  tacOf,
} from './policy.ts';

const plan = (over: Partial<CommPlanInput> = {}): CommPlanInput & { id: string } => ({ ...DEFAULT_COMM_PLAN, id: 'cp_1', ...over });
const zones = [{ id: 'Z1', name: 'Greater China', countries: ['CN', 'HK'], networks: ['45501'] }];

const A = '35693803564380'; // 14 digits; IMEIs below carry their own check digit
const imei = (body: string): string => {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
};
const first = imei(A);
const sibling = imei('35693803999999'); // same TAC 35693803
const other = imei('86012345000001'); // another TAC

describe('services', () => {
  it('has data on and voice and SMS off by default', () => {
    const p = compilePolicy(undefined, []);
    expect(mayUseService(p, 'data')).toBe(true);
    expect(mayUseService(p, 'sms')).toBe(false);
    expect(mayUseService(p, 'voice')).toBe(false);
    expect(maySendSmsTo(p, '8613800000000')).toBe(false);
  });

  it('sends SMS only to whitelisted numbers when SMS is on', () => {
    const p = compilePolicy(plan({ services: { data: true, voice: false, sms: true }, smsWhitelist: ['+8613800000000'] }), []);
    expect(maySendSmsTo(p, '8613800000000')).toBe(true);
    expect(maySendSmsTo(p, '8613900000000')).toBe(false);
  });
});

describe('IMEI lock', () => {
  it('does nothing when off', () => {
    expect(checkImeiLock({ mode: 'off', maxDevices: 1 }, first, [first], other)).toEqual({ kind: 'ok' });
  });

  it('binds the first IMEI seen and refuses any other device', () => {
    const lock = { mode: 'first' as const, maxDevices: 10 };
    expect(checkImeiLock(lock, null, [], first)).toEqual({ kind: 'bind', imei: first });
    expect(checkImeiLock(lock, first, [first], first)).toEqual({ kind: 'ok' });
    const v = checkImeiLock(lock, first, [first], sibling);
    expect(v.kind).toBe('mismatch');
    expect(v.kind === 'mismatch' && v.reason).toContain(`bound IMEI ${first}`);
  });

  it('accepts devices sharing the first 8 digits (TAC) up to N, the bound one included', () => {
    expect(tacOf(first)).toBe('35693803');
    const lock = { mode: 'tac' as const, maxDevices: 2 };
    expect(checkImeiLock(lock, first, [first], sibling)).toEqual({ kind: 'add_device', imei: sibling });
    expect(checkImeiLock(lock, first, [first, sibling], sibling)).toEqual({ kind: 'ok' });
    const third = imei('35693803777777');
    const full = checkImeiLock(lock, first, [first, sibling], third);
    expect(full.kind === 'mismatch' && full.reason).toContain('at most 2 allowed');
    const foreign = checkImeiLock({ mode: 'tac', maxDevices: 10 }, first, [first], other);
    expect(foreign.kind === 'mismatch' && foreign.reason).toContain('does not share the TAC 35693803');
  });
});

describe('region restriction', () => {
  it('allows listed countries, zone countries and networks, and operators in either MNC form', () => {
    const p = compilePolicy(plan({ region: { mode: 'allowed', countries: ['DE'], zones: ['Z1'], operators: ['26201'] } }), zones);
    expect(checkRegion(p, null, '46000', 'CN', false)).toEqual({ kind: 'ok' });
    expect(checkRegion(p, null, '26202', 'DE', false)).toEqual({ kind: 'ok' });
    expect(checkRegion(p, null, '455001', 'MO', false)).toEqual({ kind: 'ok' });
    const out = checkRegion(p, null, '310410', 'US', false);
    expect(out.kind === 'outside' && out.reason).toBe('serving network 310410 (US) is outside the allowed region DE, Z1 (zone), 26201');
    expect(checkRegion(p, null, null, null, false)).toEqual({ kind: 'ok' });
  });

  it('operators alone allow only those networks', () => {
    const p = compilePolicy(plan({ region: { mode: 'allowed', countries: [], zones: [], operators: ['46000'] } }), []);
    expect(checkRegion(p, null, '460000', 'CN', false).kind).toBe('ok');
    expect(checkRegion(p, null, '46001', 'CN', false).kind).toBe('outside');
  });

  it('binds to the country of the first session after the test period, not during it', () => {
    const p = compilePolicy(plan({ region: { mode: 'first_activation', countries: [], zones: [], operators: [] } }), []);
    expect(checkRegion(p, null, '45400', 'HK', true)).toEqual({ kind: 'ok' });
    expect(checkRegion(p, null, '46000', 'CN', false)).toEqual({ kind: 'bind', country: 'CN' });
    expect(checkRegion(p, 'CN', '46001', 'CN', false)).toEqual({ kind: 'ok' });
    const out = checkRegion(p, 'CN', '45400', 'HK', false);
    expect(out.kind === 'outside' && out.reason).toContain('outside CN, the region of first activation');
  });

  it('finds the high-risk area of a network by country or MCC-MNC', () => {
    const areas = highRiskAreasOf(['KP', '41401']);
    expect(highRiskArea(areas, '46701', countryOf('46701'))).toBe('KP');
    expect(highRiskArea(areas, '414001', 'MM')).toMatch(/^4140?01$/);
    expect(highRiskArea(areas, '46000', 'CN')).toBeUndefined();
  });

  it('finds listed networks in either MNC form, and tells a 3-digit MNC from a padded 2-digit one', () => {
    const areas = highRiskAreasOf(['414001', '405840']);
    expect(highRiskArea(areas, '41401', 'MM')).toBe('41401');
    expect(highRiskArea(areas, '414001', 'MM')).toBe('414001');
    expect(highRiskArea(areas, '405840', 'IN')).toBe('405840');
    expect(highRiskArea(areas, '40584', 'IN')).toBeUndefined();
    expect(highRiskArea(areas, '405084', 'IN')).toBeUndefined();
    expect(highRiskArea(areas, '414-01', 'MM')).toBeUndefined();
  });

  it('remembers countries per network code as reported, whatever the order of lookups', () => {
    for (let round = 0; round < 2; round++) {
      expect(countryOf('23450')).toBe('JE');
      expect(countryOf('234050')).toBe('JE');
      expect(countryOf('234500')).toBe('GB');
      expect(countryOf('23430')).toBe('GB');
      expect(countryOf('46000')).toBe('CN');
      expect(countryOf('460000')).toBe('CN');
      expect(countryOf('460-00')).toBe('CN');
      expect(countryOf('4600')).toBeNull();
      expect(countryOf('90101')).toBeNull();
      expect(countryOf('')).toBeNull();
      expect(countryOf(null)).toBeNull();
    }
  });
});

describe('APNs, limits and directed access', () => {
  it('allows listed APNs only (case-insensitive), any when none are listed', () => {
    expect(apnAllowed(compilePolicy(undefined, []), 'internet')).toBe(true);
    const p = compilePolicy(plan({ apns: ['iot.apn'] }), []);
    expect(apnAllowed(p, 'IOT.apn')).toBe(true);
    expect(apnAllowed(p, 'iot.apn')).toBe(true);
    expect(apnAllowed(p, 'iot.apn2')).toBe(false);
    expect(apnAllowed(p, 'internet')).toBe(false);
  });

  it('reaches the daily limit at the limit and flags traffic above the abnormal threshold', () => {
    const p = compilePolicy(plan({ dailyDataLimitBytes: 1000, abnormalDailyBytes: 500 }), []);
    expect(dailyLimitReached(p, 999)).toBe(false);
    expect(dailyLimitReached(p, 1000)).toBe(true);
    expect(abnormalTraffic(p, 500)).toBe(false);
    expect(abnormalTraffic(p, 501)).toBe(true);
    expect(dailyLimitReached(compilePolicy(undefined, []), 1e12)).toBe(false);
    expect(abnormalTraffic(compilePolicy(undefined, []), 150 * 1024 * 1024 + 1)).toBe(true);
  });

  it('compiles a whitelist into NAS-Filter-Rules ending in deny, and a Filter-Id', () => {
    const p = compilePolicy(plan({ destinations: ['10.1.0.0/16', '2001:db8::/32', 'api.example.com'] }), []);
    expect(p.filterRules).toEqual([
      'permit in ip from any to 10.1.0.0/16',
      'permit out ip from 10.1.0.0/16 to any',
      'permit in ip from any to 2001:db8::/32',
      'permit out ip from 2001:db8::/32 to any',
      'deny in ip from any to any',
      'deny out ip from any to any',
    ]);
    expect(p.filterId).toBe('meridian-cp_1');
    expect(compilePolicy(undefined, []).filterRules).toEqual([]);
  });

  it('matches destinations against CIDRs and host names', () => {
    const p = compilePolicy(plan({ destinations: ['10.1.0.0/16', '192.0.2.7', '2001:db8::/32', '*.example.com', 'iot.vendor.cn'] }), []);
    expect(destinationAllowed(p, '10.1.200.3')).toBe(true);
    expect(destinationAllowed(p, '10.2.0.1')).toBe(false);
    expect(destinationAllowed(p, '192.0.2.7')).toBe(true);
    expect(destinationAllowed(p, '2001:db8:1::5')).toBe(true);
    expect(destinationAllowed(p, '2001:db9::5')).toBe(false);
    expect(destinationAllowed(p, 'a.b.example.com')).toBe(true);
    expect(destinationAllowed(p, 'IOT.vendor.cn')).toBe(true);
    expect(destinationAllowed(p, 'evil.com')).toBe(false);
    expect(destinationAllowed(compilePolicy(undefined, []), 'evil.com')).toBe(true);
  });

  it('reads destinations and names every problem of a plan', () => {
    expect(parseDestination('10.0.0.0/33')).toBeUndefined();
    expect(parseDestination('not a host')).toBeUndefined();
    expect(parseDestination('::1')).toMatchObject({ kind: 'cidr', family: 6, bits: 128 });
    const problems = commPlanProblems(
      plan({
        apns: ['bad apn'],
        destinations: ['300.1.1.1'],
        smsWhitelist: ['abc'],
        imeiLock: { mode: 'tac', maxDevices: 0 },
        region: { mode: 'allowed', countries: ['XX'], zones: ['Z9'], operators: ['4600'] },
        dailyDataLimitBytes: 0,
      }),
      new Set(['Z1']),
    );
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toContain('region zone "Z9" is not a zone of the catalogue (zones: Z1)');
  });
});

import { describe, expect, it } from 'vitest';
import { checkSecret, compileGatewayTable, formatIp, maskSecret, matchGateway, parseAttributeRef, parseGatewayAddress, parseIp } from './gateway.ts';

const canonical = (text: string) => {
  const r = parseGatewayAddress(text);
  return r.ok ? r.block.canonical : r.code;
};

describe('gateway addresses', () => {
  it('accepts IPv4, IPv6 and CIDR blocks in canonical form', () => {
    expect(canonical('10.1.2.3')).toBe('10.1.2.3');
    expect(canonical(' 10.1.0.0/16 ')).toBe('10.1.0.0/16');
    expect(canonical('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(canonical('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonical('2001:db8::/32')).toBe('2001:db8::/32');
    expect(canonical('2001:0db8:0000:0001:0000:0000:0000:0000/64')).toBe('2001:db8:0:1::/64');
    expect(canonical('::')).toBe('::');
    expect(canonical('::1')).toBe('::1');
    expect(canonical('fe80::1:0:0:1')).toBe('fe80::1:0:0:1');
    expect(canonical('1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
    expect(canonical('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
    expect(canonical('64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221');
  });

  it('treats IPv4-mapped IPv6 addresses and blocks as IPv4', () => {
    expect(canonical('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonical('::ffff:10.0.0.0/104')).toBe('10.0.0.0/8');
    expect(parseIp('::ffff:192.0.2.1')).toEqual({ family: 4, value: 0xc0000201n });
  });

  it('rejects malformed addresses, naming the allowed forms', () => {
    for (const bad of ['', 'gateway.example.com', '10.1.2', '10.1.2.3.4', '10.1.2.256', '010.1.2.3', '10.1.2.3/33', '10.1.0.0/', '10.1.0.0/-1',
      '10.1.0.0/1.5', '2001:db8::1::2', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6::7:8', 'fe80::1%eth0', '12345::', '2001:db8::/129',
      '1.2.3.4::', '::ffff:10.0.0.0/90', 'g::1']) {
      const r = parseGatewayAddress(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('invalid_gateway_address');
        expect(r.message).toContain('IPv4 address');
        expect(r.message).toContain('CIDR block');
      }
    }
  });

  it('rejects a block with bits set outside its prefix and says which block was meant', () => {
    const r = parseGatewayAddress('10.1.2.3/16');
    expect(r).toMatchObject({ ok: false, code: 'invalid_gateway_address' });
    expect(!r.ok && r.message).toContain('10.1.0.0/16');
    const v6 = parseGatewayAddress('2001:db8::1/64');
    expect(!v6.ok && v6.message).toContain('2001:db8::/64');
  });

  it('formats IPv6 after RFC 5952: lower case, longest zero run compressed, a single zero group kept', () => {
    expect(formatIp({ family: 6, value: 0x20010db8000000000001000000000001n })).toBe('2001:db8::1:0:0:1');
    expect(formatIp({ family: 6, value: 0x20010db8000100000000000000000001n })).toBe('2001:db8:1::1');
    expect(formatIp({ family: 6, value: 0x20010db8000000010001000100010001n })).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp({ family: 4, value: 0x0a000001n })).toBe('10.0.0.1');
  });
});

describe('matchGateway', () => {
  const gateways = [
    { id: 'wide', address: '10.0.0.0/8' },
    { id: 'site', address: '10.1.0.0/16' },
    { id: 'host', address: '10.1.2.3' },
    { id: 'rack', address: '10.1.2.0/24' },
    { id: 'v6net', address: '2001:db8::/32' },
    { id: 'v6site', address: '2001:db8:1::/48' },
    { id: 'v6host', address: '2001:db8:1::53' },
  ];

  it('picks the most specific prefix, whatever the order given', () => {
    for (const list of [gateways, [...gateways].reverse()]) {
      expect(matchGateway(list, '10.1.2.3')?.id).toBe('host');
      expect(matchGateway(list, '10.1.2.4')?.id).toBe('rack');
      expect(matchGateway(list, '10.1.9.9')?.id).toBe('site');
      expect(matchGateway(list, '10.200.0.1')?.id).toBe('wide');
      expect(matchGateway(list, '2001:db8:1::53')?.id).toBe('v6host');
      expect(matchGateway(list, '2001:db8:1:ffff::1')?.id).toBe('v6site');
      expect(matchGateway(list, '2001:db8:2::1')?.id).toBe('v6net');
    }
  });

  it('finds nothing for addresses outside every block, or for garbage', () => {
    expect(matchGateway(gateways, '11.0.0.1')).toBeUndefined();
    expect(matchGateway(gateways, '2001:db9::1')).toBeUndefined();
    expect(matchGateway(gateways, 'not an address')).toBeUndefined();
    expect(matchGateway([], '10.1.2.3')).toBeUndefined();
  });

  it('matches IPv4 senders reported by a dual-stack socket as IPv4-mapped IPv6', () => {
    expect(matchGateway(gateways, '::ffff:10.1.2.3')?.id).toBe('host');
    expect(matchGateway(gateways, '::ffff:10.9.9.9')?.id).toBe('wide');
  });

  it('keeps the IPv4 and IPv6 worlds apart: ::/0 does not catch IPv4, 0.0.0.0/0 does not catch IPv6', () => {
    const defaults = [{ id: 'any4', address: '0.0.0.0/0' }, { id: 'any6', address: '::/0' }];
    expect(matchGateway(defaults, '192.0.2.1')?.id).toBe('any4');
    expect(matchGateway(defaults, '2001:db8::1')?.id).toBe('any6');
  });

  it('compiles once and skips entries that do not parse', () => {
    const table = compileGatewayTable([{ address: 'bogus' }, { address: '192.0.2.0/24' }]);
    expect(table.size).toBe(1);
    expect(table.match('192.0.2.77')).toEqual({ address: '192.0.2.0/24' });
  });
});

describe('gateway secrets', () => {
  it('are shown masked without revealing their length', () => {
    expect(maskSecret('abcdefgh')).toBe('ab****');
    expect(maskSecret('ab'.repeat(64))).toBe('ab****');
  });

  it('must have 8 to 128 characters and no control characters', () => {
    expect(checkSecret('1234567').ok).toBe(false);
    expect(checkSecret('12345678').ok).toBe(true);
    expect(checkSecret('x'.repeat(128)).ok).toBe(true);
    expect(checkSecret('x'.repeat(129))).toMatchObject({ ok: false, code: 'invalid_gateway_secret' });
    expect(checkSecret('secret\nvalue').ok).toBe(false);
  });
});

describe('the destination-class attribute setting', () => {
  it('names a standard attribute or a vendor-specific one, and refuses anything else', () => {
    expect(parseAttributeRef('attr:11')).toEqual({ ok: true, ref: { vendorId: 0, type: 11 } });
    expect(parseAttributeRef('vsa:8164:1')).toEqual({ ok: true, ref: { vendorId: 8164, type: 1 } });
    for (const bad of ['attr:26', 'attr:0', 'attr:256', 'vsa:0:1', 'Filter-Id', 'vsa:1', '']) {
      expect(parseAttributeRef(bad)).toMatchObject({ ok: false, code: 'invalid_destination_class_attribute' });
    }
  });
});

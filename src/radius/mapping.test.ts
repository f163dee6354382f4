import { describe, expect, it } from 'vitest';
import { Attr, attr, Code, type OutgoingAttribute, uint32Value, vendorAttr } from './attributes.ts';
import { decodePacket, encodeRequest } from './codec.ts';
import { destinationClassOf, toAccountingInput } from './mapping.ts';

const packet = (attributes: OutgoingAttribute[]) => decodePacket(encodeRequest(Code.AccountingRequest, 1, [attr(Attr.AcctStatusType, 3), ...attributes], 'secret-secret'));

describe('the destination class a gateway reports', () => {
  it('reads text, a 4-octet integer (a rating group) or other octets from the attribute the gateway names', () => {
    const p = packet([vendorAttr(32473, 1, ' video.stream '), vendorAttr(32473, 2, uint32Value(2000)), vendorAttr(32473, 3, Buffer.from([0x01, 0xff])), attr(Attr.FilterId, 'maps')]);
    expect(destinationClassOf(p, { vendorId: 32473, type: 1 })).toBe('video.stream');
    expect(destinationClassOf(p, { vendorId: 32473, type: 2 })).toBe('2000');
    expect(destinationClassOf(p, { vendorId: 32473, type: 3 })).toBe('01ff');
    expect(destinationClassOf(p, { vendorId: 0, type: Attr.FilterId })).toBe('maps');
    expect(destinationClassOf(p, { vendorId: 32473, type: 9 })).toBeNull();
  });

  it('is passed to the usage engine only for a gateway that names an attribute', () => {
    const p = packet([vendorAttr(32473, 1, 'video')]);
    expect(toAccountingInput(p).destinationClass).toBeNull();
    expect(toAccountingInput(p, { vendorId: 32473, type: 1 }).destinationClass).toBe('video');
  });
});

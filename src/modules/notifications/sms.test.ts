import { describe, expect, it } from 'vitest';
import { chooseEncoding, combinedStatus, concatenationOf, encodeSms, normalizeMsisdn, parseDeliveryReceipt, segmentCount, smsLength } from './sms.ts';

describe('SMS encoding and segmentation', () => {
  it('chooses GSM 7-bit for the default alphabet and its extension, UCS2 for anything else', () => {
    expect(chooseEncoding('unlock container 42 {ok} €5')).toBe('gsm7');
    expect(chooseEncoding('开锁')).toBe('ucs2');
    expect(chooseEncoding('naïve')).toBe('ucs2');
    expect(smsLength('a{b}€')).toBe(8);
  });

  it('keeps a message that fits in one SMS whole, without a concatenation header', () => {
    const gsm = encodeSms('x'.repeat(160), 7);
    expect(gsm.segments).toHaveLength(1);
    expect(gsm.esmClass).toBe(0);
    expect(gsm.dataCoding).toBe(0);
    expect(gsm.segments[0]!.shortMessage).toHaveLength(160);
    const zh = encodeSms('你'.repeat(70), 7);
    expect(zh.segments).toHaveLength(1);
    expect(zh.dataCoding).toBe(8);
    expect(zh.segments[0]!.shortMessage.equals(Buffer.from('你'.repeat(70), 'utf16le').swap16())).toBe(true);
  });

  it('splits long text into 153-septet or 67-character segments with reference, total and sequence', () => {
    const gsm = encodeSms('y'.repeat(161), 300);
    expect(gsm.segments.map((s) => s.text.length)).toEqual([153, 8]);
    expect(gsm.esmClass).toBe(0x40);
    expect([...gsm.segments[1]!.shortMessage.subarray(0, 6)]).toEqual([5, 0, 3, 300 & 0xff, 2, 2]);
    const text = '设备开锁指令'.repeat(20);
    const zh = encodeSms(text, 1);
    expect(zh.segments.map((s) => s.text.length)).toEqual([67, 53]);
    expect(zh.segments.map((s) => s.text).join('')).toBe(text);
    expect(segmentCount(text)).toBe(2);
  });

  it('never cuts an escape pair or a surrogate pair', () => {
    const gsm = encodeSms(`${'a'.repeat(152)}€${'b'.repeat(8)}`, 1);
    expect(gsm.segments.map((s) => s.text)).toEqual(['a'.repeat(152), `€${'b'.repeat(8)}`]);
    const emoji = `${'好'.repeat(66)}😀好`;
    const parts = encodeSms(`${emoji}${'好'.repeat(10)}`, 1).segments.map((s) => s.text);
    expect(parts[0]).toBe('好'.repeat(66));
    expect(parts[1]!.startsWith('😀')).toBe(true);
  });

  it('reads 8-bit and 16-bit concatenation headers', () => {
    expect(concatenationOf([Buffer.from([0, 3, 9, 3, 2])])).toEqual({ ref: 9, total: 3, seq: 2 });
    expect(concatenationOf([Buffer.from([8, 4, 1, 2, 3, 1])])).toEqual({ ref: 258, total: 3, seq: 1 });
    expect(concatenationOf([Buffer.from([0x24, 1, 1])])).toBeUndefined();
  });
});

describe('delivery receipts', () => {
  it('reads the receipt text', () => {
    const text = 'id:7f3a sub:001 dlvrd:001 submit date:2601150200 done date:2601150201 stat:DELIVRD err:000 text:hello';
    expect(parseDeliveryReceipt(text, {})).toEqual({ messageId: '7f3a', status: 'delivered' });
    expect(parseDeliveryReceipt('id:9 stat:UNDELIV err:012', {})).toEqual({ messageId: '9', status: 'undeliverable', errorCode: '012' });
    expect(parseDeliveryReceipt('id:9 stat:EXPIRED err:000', {})?.status).toBe('expired');
    expect(parseDeliveryReceipt('nothing here', {})).toBeUndefined();
  });

  it('prefers the receipted_message_id and message_state TLVs', () => {
    expect(parseDeliveryReceipt('id:wrong stat:DELIVRD', { receiptedMessageId: 'right', messageState: 8 })).toEqual({ messageId: 'right', status: 'rejected' });
  });

  it('combines segment statuses: a final failure wins, delivered once every segment is', () => {
    expect(combinedStatus(['delivered', 'sent'])).toBe('sent');
    expect(combinedStatus(['delivered', 'delivered'])).toBe('delivered');
    expect(combinedStatus(['delivered', 'expired'])).toBe('expired');
  });

  it('normalises MSISDNs', () => {
    expect(normalizeMsisdn('+8613800138000')).toBe('8613800138000');
    expect(normalizeMsisdn('138-0013')).toBeUndefined();
  });
});

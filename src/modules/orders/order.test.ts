import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/support/errors.ts';
import { checkInvoiceDetails } from './invoice.ts';
import { checkItem, checkOrderTransition, checkRenewalsOnce, orderTotal, renewalLine, simOrderLine, topUpLine } from './order.ts';

const plan = { id: 'cn-12m', name: 'China 12 months', currency: 'CNY', monthlyFeeMicros: 19_150_000, termMonths: 12 };
const term = { fromExpiryDate: '2022-06-30', toExpiryDate: '2023-06-30' };
const product = { id: 'p', name: '100 MB', bytes: 100 * 1024 * 1024, validMonths: 1, priceMicros: 5_000_000, currency: 'CNY' };
const shipping = { recipient: 'Wang', phone: '+86 21 5555 0000', address: 'Shanghai' };

describe('order lines', () => {
  it('prices a renewal at the monthly fee for each month, exactly in micros', () => {
    expect(renewalLine('8986', plan, 12, term)).toMatchObject({ unitPriceMicros: 19_150_000, amountMicros: 229_800_000, months: 12, quantity: 1 });
    expect(renewalLine('8986', { ...plan, monthlyFeeMicros: 333_333 }, 7, term).amountMicros).toBe(2_333_331);
  });

  it('prices top-ups per pack and SIM orders at the first term per SIM', () => {
    expect(topUpLine('8986', product, 3)).toMatchObject({ amountMicros: 15_000_000, details: { bytes: 300 * 1024 * 1024, validMonths: 1 } });
    expect(simOrderLine(plan, 10, shipping)).toMatchObject({ unitPriceMicros: 229_800_000, amountMicros: 2_298_000_000, months: 12 });
    expect(simOrderLine({ ...plan, termMonths: null }, 2, shipping)).toMatchObject({ unitPriceMicros: 19_150_000, months: 1 });
  });

  it('sums the lines exactly and rounds the total once, half up, to the fen', () => {
    const lines = [renewalLine('1', { ...plan, monthlyFeeMicros: 333_333 }, 1, term), renewalLine('2', { ...plan, monthlyFeeMicros: 1_671_667 }, 1, term)];
    expect(orderTotal(lines)).toEqual({ currency: 'CNY', totalMicros: 2_005_000, amountMinor: 201 });
    expect(errorOf(() => orderTotal([])).code).toBe('empty_order');
    expect(errorOf(() => orderTotal([lines[0]!, { ...lines[1]!, currency: 'USD' }])).code).toBe('currency_mismatch');
    expect(errorOf(() => renewalLine('1', { ...plan, monthlyFeeMicros: Number.MAX_SAFE_INTEGER }, 2, term)).code).toBe('amount_too_large');
  });
});

describe('order rules', () => {
  it('renews an ICCID once per cart or order', () => {
    expect(() => checkRenewalsOnce([{ kind: 'renewal', iccids: ['a', 'b'], months: 1 }])).not.toThrow();
    expect(errorOf(() => checkRenewalsOnce([{ kind: 'renewal', iccids: ['a'], months: 1 }, { kind: 'renewal', iccids: ['a'], months: 2 }])).code).toBe('duplicate_renewal');
    expect(errorOf(() => checkRenewalsOnce([{ kind: 'renewal', iccids: ['b'], months: 1 }], new Set(['b']))).details).toEqual({ iccids: ['b'] });
  });

  it('checks quantities, months and the shipping address', () => {
    expect(errorOf(() => checkItem({ kind: 'renewal', iccids: ['a'], months: 0 })).code).toBe('invalid_order_item');
    const e = errorOf(() => checkItem({ kind: 'sim_order', planId: 'p', quantity: 1, shipping: { recipient: ' ', phone: 'x', address: '' } }));
    expect(e.details?.problems).toHaveLength(3);
  });

  it('moves orders only along pending_payment → paid → fulfilled/failed, or to cancelled', () => {
    expect(() => checkOrderTransition('o', 'pending_payment', 'paid')).not.toThrow();
    const e = errorOf(() => checkOrderTransition('o', 'fulfilled', 'cancelled'));
    expect(e).toMatchObject({ code: 'illegal_order_transition', status: 409 });
    expect(e.message).toContain('none (final)');
  });
});

describe('invoice details', () => {
  it('needs title, tax id and email for an electronic ordinary invoice, and the bank details for a special VAT one', () => {
    expect(() => checkInvoiceDetails({ type: 'ordinary', title: 'ACME', taxId: '913101000000000000', email: 'a@b.cn' })).not.toThrow();
    expect(errorOf(() => checkInvoiceDetails({ type: 'ordinary', title: 'ACME', taxId: '913101000000000000' })).message).toContain('email is required');
    const e = errorOf(() => checkInvoiceDetails({ type: 'special_vat', title: 'ACME', taxId: '9131', address: 'Shanghai' }));
    expect(e.details?.problems).toEqual([
      'taxId (纳税人识别号) "9131" must be 15-20 digits or capital letters, such as 913101000000000000',
      'phone (电话号码) is required for a special VAT invoice (增值税专用发票)',
      'bankName (开户行) is required for a special VAT invoice (增值税专用发票)',
      'bankAccount (银行账号) is required for a special VAT invoice (增值税专用发票)',
    ]);
  });
});

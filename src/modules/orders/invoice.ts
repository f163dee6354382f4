/**
 * Invoice requests (发票): types, the details each type needs, and the status flow requested → issued or rejected.
 * The eligibility of orders (each once, at most 3 months old, more than 100 CNY together) is in
 * rating/billing-cycle.ts (`checkInvoiceRequest`). Pure, no I/O.
 */
import { invalid } from '../../shared/errors.ts';

/** 电子普通发票 (electronic ordinary invoice) and 增值税专用发票 (special VAT invoice). */
export const INVOICE_TYPES = ['ordinary', 'special_vat'] as const;
export type InvoiceType = (typeof INVOICE_TYPES)[number];

export const INVOICE_STATUSES = ['requested', 'issued', 'rejected'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface InvoiceDetails {
  type: InvoiceType;
  /** 发票抬头 */
  title: string;
  /** 纳税人识别号 (unified social credit code, 15-20 digits or capital letters) */
  taxId: string;
  /** 单位地址 */
  address?: string | null;
  /** 电话号码 */
  phone?: string | null;
  /** 开户行 */
  bankName?: string | null;
  /** 银行账号 */
  bankAccount?: string | null;
  /** Where an electronic invoice is sent. */
  email?: string | null;
}

const TAX_ID = /^[0-9A-Z]{15,20}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Throws `invalid_invoice_details` naming every missing or malformed field for the invoice type. */
export function checkInvoiceDetails(d: InvoiceDetails): void {
  const problems: string[] = [];
  if (!d.title.trim()) problems.push('title (发票抬头) is required');
  if (!TAX_ID.test(d.taxId)) problems.push(`taxId (纳税人识别号) ${JSON.stringify(d.taxId)} must be 15-20 digits or capital letters, such as 913101000000000000`);
  if (d.email && !EMAIL.test(d.email)) problems.push(`email ${JSON.stringify(d.email)} is not an email address`);
  if (d.type === 'ordinary' && !d.email) problems.push('email is required for an electronic ordinary invoice (电子普通发票): it is sent there');
  if (d.type === 'special_vat') {
    for (const [field, label] of [
      ['address', '单位地址'],
      ['phone', '电话号码'],
      ['bankName', '开户行'],
      ['bankAccount', '银行账号'],
    ] as const) {
      if (!d[field]?.trim()) problems.push(`${field} (${label}) is required for a special VAT invoice (增值税专用发票)`);
    }
  }
  if (problems.length) throw invalid('invalid_invoice_details', problems.join('; '), { problems });
}

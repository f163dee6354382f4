import { type Selectable, sql } from 'kysely';
import type { Executor, InvoiceRequestTable } from '../../db/database.ts';
import { accountIdsUnder } from '../../db/scope.ts';
import type { InvoiceStatus, InvoiceType } from './invoice.ts';
import type { OrderScope } from './order.repository.ts';

export interface InvoiceRequest {
  id: string;
  accountId: string;
  status: InvoiceStatus;
  type: InvoiceType;
  title: string;
  taxId: string;
  address: string | null;
  phone: string | null;
  bankName: string | null;
  bankAccount: string | null;
  email: string | null;
  orderIds: string[];
  amountMinor: number;
  currency: string;
  /** The invoice number, once issued. */
  number: string | null;
  /** The local date of issue, YYYY-MM-DD. */
  issuedOn: string | null;
  rejectReason: string | null;
  requestedBy: string | null;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

const toInvoice = (r: Selectable<InvoiceRequestTable>): InvoiceRequest => ({
  id: r.id,
  accountId: r.account_id,
  status: r.status as InvoiceStatus,
  type: r.type as InvoiceType,
  title: r.title,
  taxId: r.tax_id,
  address: r.address,
  phone: r.phone,
  bankName: r.bank_name,
  bankAccount: r.bank_account,
  email: r.email,
  orderIds: r.order_ids,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  number: r.number,
  issuedOn: r.issued_on,
  rejectReason: r.reject_reason,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

const scoped = (db: Executor, scope: OrderScope) => {
  const q = db.selectFrom('invoice_requests');
  return scope.isRoot ? q : q.where('invoice_requests.account_id', 'in', accountIdsUnder(db, scope.path));
};

export async function insertInvoice(db: Executor, i: InvoiceRequest): Promise<void> {
  await db
    .insertInto('invoice_requests')
    .values({
      id: i.id,
      account_id: i.accountId,
      status: i.status,
      type: i.type,
      title: i.title,
      tax_id: i.taxId,
      address: i.address,
      phone: i.phone,
      bank_name: i.bankName,
      bank_account: i.bankAccount,
      email: i.email,
      order_ids: i.orderIds,
      amount_minor: i.amountMinor,
      currency: i.currency,
      number: null,
      issued_on: null,
      reject_reason: null,
      requested_by: i.requestedBy,
      requested_at: i.requestedAt,
      decided_by: null,
      decided_at: null,
    })
    .execute();
}

export async function findInvoice(db: Executor, id: string, scope: OrderScope): Promise<InvoiceRequest | undefined> {
  const row = await scoped(db, scope).selectAll().where('id', '=', id).executeTakeFirst();
  return row && toInvoice(row);
}

export async function lockInvoice(db: Executor, id: string): Promise<InvoiceRequest | undefined> {
  const row = await db.selectFrom('invoice_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  return row && toInvoice(row);
}

export async function listInvoices(db: Executor, scope: OrderScope, f: { status?: InvoiceStatus[]; accountId?: string; after?: string; limit: number }): Promise<InvoiceRequest[]> {
  let q = scoped(db, scope).selectAll();
  if (f.status?.length) q = q.where('status', 'in', f.status);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.after) q = q.where('id', '<', f.after);
  return (await q.orderBy('id', 'desc').limit(f.limit).execute()).map(toInvoice);
}

export async function decideInvoice(
  db: Executor,
  id: string,
  d: { status: InvoiceStatus; number?: string; issuedOn?: string; rejectReason?: string; decidedBy: string | null; decidedAt: Date },
): Promise<void> {
  await db
    .updateTable('invoice_requests')
    .set({ status: d.status, number: d.number ?? null, issued_on: d.issuedOn ?? null, reject_reason: d.rejectReason ?? null, decided_by: d.decidedBy, decided_at: d.decidedAt })
    .where('id', '=', id)
    .execute();
}

/** Marks orders as covered by an invoice request. */
export async function attachOrders(db: Executor, invoiceId: string, orderIds: string[]): Promise<void> {
  await db.updateTable('orders').set({ invoice_id: invoiceId }).where('id', '=', sql<string>`any(${orderIds}::text[])`).where('invoice_id', 'is', null).execute();
}

/** Frees the orders of a rejected request so they can be invoiced again. */
export async function releaseOrders(db: Executor, invoiceId: string): Promise<void> {
  await db.updateTable('orders').set({ invoice_id: null }).where('invoice_id', '=', invoiceId).execute();
}

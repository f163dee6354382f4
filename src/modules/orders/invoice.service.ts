import type { Db } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { isRootPath, type Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { checkInvoiceRequest, INVOICE_CURRENCY } from '../rating/billing-cycle.ts';
import { localTime } from '../usage/usage.ts';
import * as repo from './invoice.repository.ts';
import type { InvoiceRequest } from './invoice.repository.ts';
import { checkInvoiceDetails, type InvoiceDetails, type InvoiceStatus } from './invoice.ts';
import * as orders from './order.repository.ts';
import type { OrderScope } from './order.repository.ts';
import { timeZonesOf } from './prepaid-term.repository.ts';

export type { InvoiceRequest } from './invoice.repository.ts';

const scopeOf = (p: Principal): OrderScope => ({ path: p.accountPath, isRoot: isRootPath(p.accountPath) });
const ISSUED_ON = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Invoice requests (发票) for paid orders, per the Fanyi rules: several orders of one account in one request, each
 * order invoiced once, orders paid at most 3 months ago, more than 100 CNY in all. The seller issues (with the
 * invoice number) or rejects; a rejected request frees its orders.
 */
export class InvoiceService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Requests one invoice for the given orders; throws `invoice_not_allowed` naming every rule broken. */
  async requestInvoice(principal: Principal, input: InvoiceDetails & { orderIds: string[] }): Promise<InvoiceRequest> {
    requirePermission(principal, 'orders:write');
    checkInvoiceDetails(input);
    const ids = [...new Set(input.orderIds)];
    const scope = scopeOf(principal);
    for (const id of ids) if (!(await orders.findOrderRow(this.db, id, scope))) throw notFound('order', id);
    const id = await this.db.transaction().execute(async (trx) => {
      // NOTE: the orders stay locked until the request is stored, so two requests cannot invoice one order.
      const rows = await orders.lockOrderRows(trx, ids);
      const accounts = [...new Set(rows.map((r) => r.account_id))];
      if (accounts.length > 1) {
        throw invalid('invoice_not_allowed', `the orders belong to ${accounts.length} accounts (${accounts.join(', ')}); one invoice covers the orders of one account`);
      }
      const accountId = accounts[0]!;
      const timeZone = (await timeZonesOf(trx, [accountId])).get(accountId)!;
      const now = this.clock.now();
      const amountMinor = checkInvoiceRequest(
        input.orderIds.map((oid) => {
          const r = rows.find((x) => x.id === oid)!;
          return { id: r.id, status: r.status, amountMinor: Number(r.amount_minor), currency: r.currency, paidAt: r.paid_at, invoiceId: r.invoice_id };
        }),
        now,
        timeZone,
      );
      const invoice: InvoiceRequest = {
        id: newId('inv'),
        accountId,
        status: 'requested',
        type: input.type,
        title: input.title.trim(),
        taxId: input.taxId,
        address: input.address ?? null,
        phone: input.phone ?? null,
        bankName: input.bankName ?? null,
        bankAccount: input.bankAccount ?? null,
        email: input.email ?? null,
        orderIds: ids,
        amountMinor,
        currency: INVOICE_CURRENCY,
        number: null,
        issuedOn: null,
        rejectReason: null,
        requestedBy: principal.actor,
        requestedAt: now,
        decidedBy: null,
        decidedAt: null,
      };
      await repo.insertInvoice(trx, invoice);
      await repo.attachOrders(trx, invoice.id, ids);
      return invoice.id;
    });
    return this.getInvoice(principal, id);
  }

  async getInvoice(principal: Principal, id: string): Promise<InvoiceRequest> {
    const invoice = await repo.findInvoice(this.db, id, scopeOf(principal));
    if (!invoice) throw notFound('invoice', id);
    return invoice;
  }

  async listInvoices(principal: Principal, filter: { status?: InvoiceStatus[]; accountId?: string; after?: string; limit: number }): Promise<{ items: InvoiceRequest[]; nextCursor: string | null }> {
    const items = await repo.listInvoices(this.db, scopeOf(principal), filter);
    return { items, nextCursor: items.length === filter.limit ? (items.at(-1)?.id ?? null) : null };
  }

  /** Records that the seller issued the invoice, with its number and date (default: today in the account's time zone). */
  async issueInvoice(principal: Principal, id: string, input: { number: string; issuedOn?: string }): Promise<InvoiceRequest> {
    const invoice = await this.decidable(principal, id);
    if (input.issuedOn !== undefined && !ISSUED_ON.test(input.issuedOn)) throw invalid('invalid_date', `issuedOn ${JSON.stringify(input.issuedOn)} must be a date YYYY-MM-DD`);
    const now = this.clock.now();
    const timeZone = (await timeZonesOf(this.db, [invoice.accountId])).get(invoice.accountId)!;
    const l = localTime(now, timeZone);
    const today = `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
    await this.decide(id, { status: 'issued', number: input.number, issuedOn: input.issuedOn ?? today, decidedBy: principal.actor, decidedAt: now });
    return this.getInvoice(principal, id);
  }

  /** Rejects the request with a reason; its orders can be invoiced again. */
  async rejectInvoice(principal: Principal, id: string, reason: string): Promise<InvoiceRequest> {
    await this.decidable(principal, id);
    await this.decide(id, { status: 'rejected', rejectReason: reason, decidedBy: principal.actor, decidedAt: this.clock.now() });
    return this.getInvoice(principal, id);
  }

  private async decidable(principal: Principal, id: string): Promise<InvoiceRequest> {
    requirePermission(principal, 'invoices:issue');
    const invoice = await this.getInvoice(principal, id);
    if (invoice.accountId === principal.accountId && !isRootPath(principal.accountPath)) {
      throw forbidden(`invoice request ${id} is your own account's; it is issued by the seller (an account above yours)`);
    }
    return invoice;
  }

  private async decide(id: string, d: Parameters<typeof repo.decideInvoice>[2]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const current = (await repo.lockInvoice(trx, id))!;
      if (current.status !== 'requested') {
        throw conflict('invoice_already_decided', `invoice request ${id} is already ${current.status}${current.number ? ` (number ${current.number})` : ''}; only a requested invoice is issued or rejected`);
      }
      await repo.decideInvoice(trx, id, d);
      if (d.status === 'rejected') await repo.releaseOrders(trx, id);
    });
  }
}

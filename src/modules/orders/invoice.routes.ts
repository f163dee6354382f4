import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, IdParam, limitSchema, page, problems } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import { INVOICE_STATUSES } from './invoice.ts';
import { InvoiceRequestBody, InvoiceSchema, invoiceDto } from './order.schemas.ts';

export const invoiceRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['invoices'];
    app.post('/invoices', {
      schema: {
        tags,
        summary: 'Request an invoice (发票) for paid orders',
        description:
          'Several orders of one account may be invoiced together. Each order is invoiced once, only orders paid at most 3 months ago, and the orders must add up to more than 100 CNY; a request breaking a rule is 400 invoice_not_allowed naming each problem.',
        body: InvoiceRequestBody,
        response: { 201: InvoiceSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => reply.code(201).send(invoiceDto(await s.invoices.requestInvoice(principalOf(req), req.body))),
    });
    app.get('/invoices', {
      schema: {
        tags,
        summary: "Invoice requests of the caller's account and the accounts below it, newest first",
        querystring: z.object({ status: csvList(z.enum(INVOICE_STATUSES)).optional(), accountId: z.string().max(100).optional(), limit: limitSchema, cursor: cursorSchema }),
        response: { 200: page(InvoiceSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const q = req.query;
        const r = await s.invoices.listInvoices(principalOf(req), { status: q.status, accountId: q.accountId, after: q.cursor, limit: q.limit });
        return { items: r.items.map(invoiceDto), nextCursor: r.nextCursor };
      },
    });
    app.get('/invoices/:id', {
      schema: { tags, summary: 'An invoice request', params: IdParam, response: { 200: InvoiceSchema, ...problems(401, 404) } },
      handler: async (req) => invoiceDto(await s.invoices.getInvoice(principalOf(req), req.params.id)),
    });
    app.post('/invoices/:id/issue', {
      schema: {
        tags,
        summary: 'Record that the invoice was issued, with its number (the seller)',
        params: IdParam,
        body: z.object({ number: z.string().trim().min(1).max(50), issuedOn: z.string().optional().describe('YYYY-MM-DD; default today in the account\'s time zone') }).strict(),
        response: { 200: InvoiceSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => invoiceDto(await s.invoices.issueInvoice(principalOf(req), req.params.id, req.body)),
    });
    app.post('/invoices/:id/reject', {
      schema: {
        tags,
        summary: 'Reject an invoice request with a reason (the seller); its orders can be invoiced again',
        params: IdParam,
        body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(),
        response: { 200: InvoiceSchema, ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (req) => invoiceDto(await s.invoices.rejectInvoice(principalOf(req), req.params.id, req.body.reason)),
    });
  };

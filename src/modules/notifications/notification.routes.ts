import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../http/auth.ts';
import { csvList, cursorSchema, IdParam, iso, isoOrNull, limitSchema, nextIdCursor, page, problems, Timestamp } from '../../http/schemas.ts';
import type { Services } from '../../services.ts';
import type { EmailMessage, SmsMessage } from './notification.ts';
import { MAX_TEXT_LENGTH, SMS_STATUSES } from './sms.ts';
import { TEMPLATE_NAMES } from './templates.ts';

const SmsSchema = z
  .object({
    id: z.string(),
    accountId: z.string().nullable().describe('null for an MO message from an MSISDN that matches no SIM (visible to the operator only)'),
    direction: z.enum(['mt', 'mo']).describe('mt: sent by Meridian (下行); mo: sent by the device (上行)'),
    iccid: z.string().nullable().describe('the SIM, when the MSISDN belongs to one'),
    msisdn: z.string().describe('the other party: destination of an MT message, source of an MO message'),
    text: z.string(),
    encoding: z.enum(['gsm7', 'ucs2']).describe('GSM 7-bit, or UCS2 for text outside the GSM alphabet (Chinese)'),
    segments: z.number().int().describe('SMS segments the text takes (concatenated when more than one)'),
    status: z.enum(SMS_STATUSES).describe('MT: queued, sent (accepted by the SMSC), then delivered, undeliverable, expired, rejected, deleted or unknown from the delivery receipt; failed when it could not be submitted. MO: received'),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable(),
    error: z.string().nullable().describe('why the last attempt failed'),
    messageId: z.string().nullable().describe("the SMSC's message id (of the first segment)"),
    errorCode: z.string().nullable().describe('network error code from the delivery receipt'),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    submittedAt: Timestamp.nullable(),
    doneAt: Timestamp.nullable().describe('when the message reached its final status'),
  })
  .meta({ id: 'Sms' });

const toSmsDto = (m: SmsMessage) => ({
  id: m.id,
  accountId: m.accountId,
  direction: m.direction,
  iccid: m.iccid,
  msisdn: m.msisdn,
  text: m.text,
  encoding: m.encoding,
  segments: m.segments,
  status: m.status,
  attempts: m.attempts,
  nextAttemptAt: isoOrNull(m.nextAttemptAt),
  error: m.error,
  messageId: m.messageId,
  errorCode: m.errorCode,
  createdBy: m.createdBy,
  createdAt: iso(m.createdAt),
  updatedAt: iso(m.updatedAt),
  submittedAt: isoOrNull(m.submittedAt),
  doneAt: isoOrNull(m.doneAt),
});

const NotificationSchema = z
  .object({
    id: z.string(),
    accountId: z.string(),
    channel: z.literal('email'),
    to: z.array(z.string()),
    template: z.string(),
    lang: z.enum(['zh', 'en']),
    subject: z.string(),
    text: z.string().describe('the plain-text part'),
    status: z.enum(['queued', 'sent', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: Timestamp.nullable(),
    error: z.string().nullable().describe('why the last attempt failed'),
    providerMessageId: z.string().nullable().describe('Message-ID the SMTP server accepted'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    sentAt: Timestamp.nullable(),
  })
  .meta({ id: 'Notification' });

const toEmailDto = (m: EmailMessage) => ({
  id: m.id,
  accountId: m.accountId,
  channel: m.channel,
  to: m.to,
  template: m.template,
  lang: m.lang,
  subject: m.subject,
  text: m.text,
  status: m.status,
  attempts: m.attempts,
  nextAttemptAt: isoOrNull(m.nextAttemptAt),
  error: m.error,
  providerMessageId: m.providerMessageId,
  createdAt: iso(m.createdAt),
  updatedAt: iso(m.updatedAt),
  sentAt: isoOrNull(m.sentAt),
});

const tags = ['notifications'];

export const notificationRoutes =
  (s: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/sms', {
      schema: {
        tags,
        summary: 'Send an SMS (短信) to a SIM by ICCID, or to a phone number',
        description:
          'The message is stored and queued at once (202); it is submitted to the SMSC with a delivery receipt requested, split into concatenated ' +
          'segments when long (UCS2 for Chinese, GSM 7-bit otherwise). An ICCID is resolved to its MSISDN within your accounts; an MSISDN of a ' +
          'SIM you cannot see is refused. Without an SMSC configured the message is stored as failed.',
        body: z
          .object({
            iccid: z.string().min(1).max(22).optional().describe('a SIM of yours: the command or text goes to its MSISDN'),
            msisdn: z.string().min(1).max(20).optional().describe('a phone number, country code first (8613800138000 or +8613800138000)'),
            text: z.string().min(1).max(MAX_TEXT_LENGTH).describe('at most 10 segments: 1530 GSM 7-bit characters, or 670 in UCS2 (Chinese)'),
          })
          .strict(),
        response: { 202: SmsSchema, ...problems(400, 401, 403, 404) },
      },
      handler: async (req, reply) => {
        const sms = await s.notifications.sendSms(principalOf(req), req.body);
        reply.status(202).header('location', `/api/v1/sms/${sms.id}`);
        return toSmsDto(sms);
      },
    });
    app.get('/sms', {
      schema: {
        tags,
        summary: 'List SMS, newest first: sent (MT) and received from devices (MO)',
        querystring: z.object({
          direction: z.enum(['mt', 'mo']).optional(),
          iccid: z.string().max(22).optional(),
          msisdn: z.string().max(20).optional(),
          status: csvList(z.enum(SMS_STATUSES)).optional().describe('comma-separated statuses'),
          from: Timestamp.optional().describe('created at or after'),
          to: Timestamp.optional().describe('created before'),
          cursor: cursorSchema,
          limit: limitSchema,
        }),
        response: { 200: page(SmsSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const q = req.query;
        const items = await s.notifications.listSms(principalOf(req), {
          direction: q.direction,
          iccid: q.iccid,
          msisdn: q.msisdn?.replace(/^\+/, ''),
          status: q.status,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
          before: q.cursor,
          limit: q.limit,
        });
        return { items: items.map(toSmsDto), nextCursor: nextIdCursor(items, q.limit) };
      },
    });
    app.get('/sms/:id', {
      schema: { tags, summary: 'One SMS with its delivery status', params: IdParam, response: { 200: SmsSchema, ...problems(401, 404) } },
      handler: async (req) => toSmsDto(await s.notifications.getSms(principalOf(req), req.params.id)),
    });
    app.get('/notifications', {
      schema: {
        tags,
        summary: 'List e-mail notifications, newest first, with their delivery status',
        querystring: z.object({
          status: z.enum(['queued', 'sent', 'failed']).optional(),
          template: z.enum(TEMPLATE_NAMES as [string, ...string[]]).optional(),
          cursor: cursorSchema,
          limit: limitSchema,
        }),
        response: { 200: page(NotificationSchema), ...problems(400, 401) },
      },
      handler: async (req) => {
        const q = req.query;
        const items = await s.notifications.listEmails(principalOf(req), { status: q.status, template: q.template, before: q.cursor, limit: q.limit });
        return { items: items.map(toEmailDto), nextCursor: nextIdCursor(items, q.limit) };
      },
    });
    app.get('/notifications/:id', {
      schema: { tags, summary: 'One e-mail notification', params: IdParam, response: { 200: NotificationSchema, ...problems(401, 404) } },
      handler: async (req) => toEmailDto(await s.notifications.getEmail(principalOf(req), req.params.id)),
    });
  };

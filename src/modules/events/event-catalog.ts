/** Every event type Meridian publishes, with its meaning and payload schema; docs/events.md is generated from it. */
import { z } from 'zod';
import { ALERT_SEVERITIES } from '../alerts/alert.ts';
import { MT_STATUSES } from '../notifications/sms.ts';
import { ORDER_STATUSES } from '../orders/order.ts';
import { CHANGE_SOURCES, SIM_STATES, SUSPEND_REASONS } from '../sims/sim.ts';
import type { SubjectKind } from './event.ts';

export interface EventDefinition {
  description: string;
  subject: SubjectKind;
  schema: z.ZodType<Record<string, unknown>>;
}

const iccid = z.string().describe('ICCID of the SIM');
const actor = z.string().nullable().describe('who made the change: `user:<id>`, `key:<id>` or `system:<role>`');
const source = z.enum(CHANGE_SOURCES).describe('where the change came from');

export const eventCatalog = {
  'sim.state_changed': {
    description: 'A SIM moved to another lifecycle state (including a new SIM entering `inventory` by import). Published when the change is committed.',
    subject: 'sim',
    schema: z.object({
      iccid,
      from: z.enum(SIM_STATES).nullable().describe('previous state; null for a SIM just imported'),
      to: z.enum(SIM_STATES).describe('new state'),
      suspendReason: z.enum(SUSPEND_REASONS).nullable().describe('why, when the new state is `suspended`'),
      reason: z.string().nullable().describe('reason given with the change'),
      source,
      actor,
      jobId: z.string().nullable().describe('the bulk or import job that made the change'),
      changeRecordId: z.number().int().nullable().describe('the change record (异动记录) of the change'),
    }),
  },
  'sim.updated': {
    description: 'Attributes of a SIM changed (group, labels, custom fields, device name, IMEI, owner account, rate plan), one event per SIM with every changed field.',
    subject: 'sim',
    schema: z.object({
      iccid,
      changes: z
        .array(z.object({ field: z.string(), oldValue: z.string().nullable(), newValue: z.string().nullable() }))
        .describe('each changed field with its old and new value as the change records show them'),
      reason: z.string().nullable(),
      source,
      actor,
      jobId: z.string().nullable(),
    }),
  },
  'sim.session_disconnected': {
    description: 'A Disconnect-Request for a data session of a SIM that may no longer be online was answered or gave up (RFC 5176).',
    subject: 'sim',
    schema: z.object({
      iccid,
      acctSessionId: z.string().describe('Acct-Session-Id of the session'),
      result: z.enum(['disconnected', 'disconnect_failed']),
      error: z.string().nullable().describe('why the disconnect failed (NAK and its Error-Cause, no answer, no address)'),
      reason: z.string().nullable().describe('the state change that required the disconnect'),
    }),
  },
  'bill.issued': {
    description: 'A monthly bill (账单) was issued to an account by a bill run, or replaced by a re-run (next revision).',
    subject: 'account',
    schema: z.object({
      billId: z.string(),
      kind: z.enum(['retail', 'wholesale']).describe('retail: for the account\'s own SIMs; wholesale: for the SIMs on plans it sells'),
      period: z.string().describe('billing month YYYY-MM'),
      revision: z.number().int().describe('1 for the first bill of the month, more after re-runs'),
      currency: z.string(),
      total: z.string().describe('the total in the major unit, e.g. "123.45"'),
      usageRecords: z.number().int(),
    }),
  },
  'alert.raised': {
    description: 'An alert (告警) was raised for an account.',
    subject: 'alert',
    schema: z.object({
      alertId: z.string(),
      type: z.string().describe('alert type, e.g. `webhook_endpoint_paused`'),
      severity: z.enum(ALERT_SEVERITIES),
      message: z.string(),
      alertSubject: z.object({ kind: z.string(), id: z.string() }).describe('what the alert is about'),
      data: z.record(z.string(), z.unknown()),
    }),
  },
  'alert.handled': {
    description: 'An alert was marked handled, with a remark.',
    subject: 'alert',
    schema: z.object({
      alertId: z.string(),
      type: z.string(),
      severity: z.enum(ALERT_SEVERITIES),
      handledBy: z.string().describe('who handled it'),
      remark: z.string().nullable(),
    }),
  },
  'sim.expiry_reminder': {
    description:
      'A prepaid SIM\'s term expires soon: published once 30 and once 15 days before the expiry date (local midnight in the account\'s time zone), for the notification and rule modules to remind the customer to renew (续费).',
    subject: 'sim',
    schema: z.object({
      iccid,
      expiryDate: z.string().describe('last day of the term, YYYY-MM-DD in the account\'s time zone'),
      daysBefore: z.number().int().describe('the reminder threshold: 30 or 15 days before the expiry date'),
      lastRenewalDate: z.string().describe('last day a renewal is accepted: the 22nd of the month after expiry'),
    }),
  },
  'order.status_changed': {
    description: 'An order (renewal, top-up purchase, SIM order) was placed or changed status: paid, fulfilled, failed or cancelled.',
    subject: 'order',
    schema: z.object({
      orderId: z.string(),
      from: z.enum(ORDER_STATUSES).nullable().describe('previous status; null for a new order'),
      to: z.enum(ORDER_STATUSES),
      total: z.string().describe('order total, decimal in the major unit'),
      currency: z.string(),
      actor,
      note: z.string().nullable().describe('what happened: the payment reference, the lines that failed …'),
    }),
  },
  'webhook.endpoint_paused': {
    description: 'A webhook endpoint kept failing and was paused; nothing is sent to it until it is resumed.',
    subject: 'webhook',
    schema: z.object({
      endpointId: z.string(),
      url: z.string(),
      consecutiveFailures: z.number().int().describe('failed attempts in a row'),
      failingSince: z.string().describe('RFC 3339 time of the first failure of the run'),
      lastError: z.string().nullable(),
    }),
  },
  'sms.received': {
    description: 'An SMS from a device (MO, 上行) was received from the SMSC and stored; a long one once all its parts had come.',
    subject: 'sms',
    schema: z.object({
      id: z.string().describe('the stored SMS (`sms_…`)'),
      iccid: iccid.nullable(),
      msisdn: z.string().describe('MSISDN that sent it'),
      text: z.string(),
      encoding: z.enum(['gsm7', 'ucs2']),
      segments: z.number().int().describe('parts it came in'),
      receivedAt: z.string().describe('RFC 3339 time it was stored'),
    }),
  },
  'sms.delivery_updated': {
    description: 'A delivery receipt (DLR) from the SMSC changed the status of an SMS sent by Meridian (MT, 下行).',
    subject: 'sms',
    schema: z.object({
      id: z.string().describe('the stored SMS (`sms_…`)'),
      iccid: iccid.nullable().describe('the SIM it was sent to, if any'),
      msisdn: z.string().describe('MSISDN it was sent to'),
      status: z.enum(MT_STATUSES).describe('new status: delivered, undeliverable, expired, rejected, deleted or unknown'),
      previousStatus: z.enum(MT_STATUSES),
      errorCode: z.string().nullable().describe("the network's error code from the receipt"),
      messageId: z.string().nullable().describe("the SMSC's message id (of the first segment)"),
    }),
  },
  'usage.threshold_crossed': {
    description:
      "The rated usage of a SIM, or of the pool it shares, crossed one of its plan's notification percents (70, 90 and 100 % of the included data by default) in the current cycle. Published once the usage is durable, once per threshold and cycle.",
    subject: 'sim',
    schema: z.object({
      iccid: iccid.describe('the SIM whose usage crossed the threshold'),
      of: z.enum(['sim', 'pool']).describe("whose allowance: the SIM's own included data, or its pool's"),
      pool: z.string().nullable().describe('the pool (`<account>|<plan>`) when of is pool'),
      planId: z.string(),
      cycle: z.string().describe('billing cycle, YYYY-MM in the account time zone'),
      percent: z.number().int().describe('the threshold crossed, in percent of the allowance'),
      usedBytes: z.number().int().describe('included data used after the usage'),
      allowanceBytes: z.number().int().describe('the allowance: the SIM\'s included data or the pool\'s size'),
      at: z.string().describe('RFC 3339 time of the usage'),
    }),
  },
  'rule.fired': {
    description: 'An automation rule (自动化规则) fired and ran its webhook action. The subject is the SIM, or the group or pool of a rule on their usage.',
    subject: 'sim',
    schema: z.object({
      ruleId: z.string(),
      ruleName: z.string(),
      firingId: z.number().int().describe('the firing in the firings log (GET /api/v1/rule-firings)'),
      trigger: z.string().describe('the trigger type, e.g. `usage`, `offline`, `network_not`'),
      subject: z.object({ kind: z.enum(['sim', 'group', 'pool']), id: z.string() }),
      period: z.string().describe('the cycle, day or spell the firing counts in'),
      stage: z.string().describe('the stage that fired (e.g. `90` for 90 %), or empty'),
      inputs: z.record(z.string(), z.unknown()).describe('the trigger values that made the rule fire'),
      firedAt: z.string().describe('RFC 3339 time of the firing'),
    }),
  },
} satisfies Record<string, EventDefinition>;

export type EventType = keyof typeof eventCatalog;
export const EVENT_TYPES = Object.keys(eventCatalog) as EventType[];

const definitions: Record<string, EventDefinition> = eventCatalog;

/** The definition of an event type, or undefined for a type not in the catalogue. */
export const eventDefinition = (type: string): EventDefinition | undefined => (Object.hasOwn(definitions, type) ? definitions[type] : undefined);

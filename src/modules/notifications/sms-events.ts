/** The SMS events (`sms.received`, `sms.delivery_updated`) and the one place they are published. */
import type { Executor } from '../../db/database.ts';
import type { NewEvent } from '../events/event.ts';
import { publishEvents } from '../events/event.repository.ts';
import type { SmsMessage } from './notification.ts';

export interface SmsEvent extends NewEvent {
  type: 'sms.received' | 'sms.delivery_updated';
  subject: { kind: 'sms'; id: string };
}

/** `sms.received`: an MO message from a device was stored. */
export const smsReceived = (m: SmsMessage): SmsEvent => ({
  type: 'sms.received',
  accountId: m.accountId!,
  subject: { kind: 'sms', id: m.id },
  data: { id: m.id, iccid: m.iccid, msisdn: m.msisdn, text: m.text, encoding: m.encoding, segments: m.segments, receivedAt: m.createdAt.toISOString() },
});

/** `sms.delivery_updated`: a delivery receipt changed the status of an MT message. */
export const smsDeliveryUpdated = (m: SmsMessage, previousStatus: string): SmsEvent => ({
  type: 'sms.delivery_updated',
  accountId: m.accountId!,
  subject: { kind: 'sms', id: m.id },
  data: { id: m.id, iccid: m.iccid, msisdn: m.msisdn, status: m.status, previousStatus, errorCode: m.errorCode, messageId: m.messageId },
});

/** Publishes SMS events in the transaction that stored the change. */
export function publishSmsEvents(db: Executor, events: SmsEvent[], at: Date): Promise<void> {
  return publishEvents(db, events, at);
}

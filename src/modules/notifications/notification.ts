/** Stored notification messages and the delivery queue's retry rule: pure, no I/O. */
import type { Lang } from './templates.ts';
import type { SmsEncoding, SmsStatus } from './sms.ts';

export type EmailStatus = 'queued' | 'sent' | 'failed';

export interface EmailMessage {
  id: string;
  accountId: string;
  channel: 'email';
  to: string[];
  template: string;
  lang: Lang;
  subject: string;
  text: string;
  html: string;
  status: EmailStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  error: string | null;
  providerMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

export interface SmsMessage {
  id: string;
  accountId: string | null;
  direction: 'mo' | 'mt';
  iccid: string | null;
  msisdn: string;
  text: string;
  encoding: SmsEncoding;
  segments: number;
  status: SmsStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  error: string | null;
  messageId: string | null;
  errorCode: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  submittedAt: Date | null;
  doneAt: Date | null;
}

/** Attempts before a message that keeps failing for a temporary reason is given up as `failed`. */
export const MAX_ATTEMPTS = 8;

/** Wait before attempt `attempts + 1`: 30 s, doubling, at most one hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** How long a claimed message is held by the sender before another pass may take it again (a sender that died). */
export const CLAIM_MS = 120_000;

/** Why a send failed: `permanent` is recorded as failed at once, `temporary` is retried with backoff. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export const EMAIL_NOT_CONFIGURED = 'email is not configured (set SMTP_URL or SMTP_HOST)';
export const SMS_NOT_CONFIGURED = 'SMS is not configured (set SMPP_HOST)';

/** A plausible e-mail address: one @, no spaces or angle brackets, a dot in the domain. */
export const isEmailAddress = (s: string): boolean => /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(s) && s.length <= 254;

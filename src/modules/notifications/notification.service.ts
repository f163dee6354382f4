/** E-mail and SMS notifications: stored first, sent from the durable queue; MO messages and delivery receipts from the SMSC. */
import type { Logger } from 'pino';
import type { Db, Executor } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { AppError, conflict, invalid, notFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { Principal } from '../accounts/account.ts';
import { requirePermission } from '../accounts/account.service.ts';
import { scopeOf } from '../sims/sim.service.ts';
import type { SimService } from '../sims/sim.service.ts';
import type { AlertService } from '../alerts/alert.service.ts';
import type { CompiledPolicy } from '../policies/policy.ts';
import type { SmsUsageOutcome, SmsUsageService } from './sms-usage.service.ts';
import { smsDedupeKey, smsRefusal } from './sms-usage.ts';
import {
  DeliveryError,
  EMAIL_NOT_CONFIGURED,
  type EmailMessage,
  type EmailStatus,
  isEmailAddress,
  MAX_ATTEMPTS,
  retryDelayMs,
  SMS_NOT_CONFIGURED,
  type SmsMessage,
} from './notification.ts';
import * as repo from './notification.repository.ts';
import { smsDeliveryUpdated, smsReceived, publishSmsEvents } from './sms-events.ts';
import {
  chooseEncoding,
  combinedStatus,
  type Concatenation,
  encodeSms,
  type EncodedSms,
  isFinalMt,
  LIMITS,
  MAX_SEGMENTS,
  MAX_TEXT_LENGTH,
  MO_STATUS,
  normalizeMsisdn,
  parseDeliveryReceipt,
  segmentCount,
  type SmsEncoding,
} from './sms.ts';
import { type Lang, renderEmail } from './templates.ts';

/** Sends one rendered e-mail; throws DeliveryError (permanent or temporary). */
export interface EmailTransport {
  send(message: { to: string[]; subject: string; text: string; html: string }): Promise<{ messageId: string | null }>;
}

/** The link to the SMSC. `submit` sends every segment and returns their SMSC message ids; throws DeliveryError. */
export interface SmsLink {
  isBound(): boolean;
  submit(to: string, sms: EncodedSms): Promise<string[]>;
}

/** A deliver_sm from the SMSC, decoded: an MO message (or one part of one) or a delivery receipt. */
export interface IncomingSms {
  source: string;
  text: string;
  encoding: SmsEncoding;
  isReceipt: boolean;
  concatenation?: Concatenation;
  receiptedMessageId?: string;
  messageState?: number;
  /** The device's reference of an MO message (user_message_reference): a retransmission carries the same one. */
  reference?: number;
}

/** SMS with devices as usage: rated records, and the communication plan's SMS service and whitelist. */
export interface SmsControls {
  usage: SmsUsageService;
  /** The communication plan in force for a SIM, compiled. */
  policyOf(iccid: string, db: Executor): Promise<CompiledPolicy>;
  /** The platform's sender address (the SMPP source address), checked against SMS whitelists; null without an SMSC. */
  sender: string | null;
  alerts: AlertService;
}

export interface EmailRequest {
  accountId: string;
  to: string[];
  template: string;
  lang: Lang;
  vars: Record<string, unknown>;
}

export interface SmsRequest {
  accountId: string;
  /** MSISDN, country code first; a leading + is accepted. */
  to: string;
  text: string;
  iccid?: string;
}

/** MO parts of a concatenated message older than this are dropped: the missing parts will not come. */
const MO_PART_TTL_MS = 24 * 3_600_000;

/** Messages claimed per pass of the sender. */
const BATCH = 20;

export class NotificationService {
  private readonly enqueued: (() => void)[] = [];
  // NOTE: a receipt can arrive before the submit_sm_resp of its message is written; receipts wait for these writes.
  private readonly submitting = new Set<Promise<unknown>>();
  private reference = Math.floor(Math.random() * 256);

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sims: SimService,
    private readonly transports: { email?: EmailTransport; sms?: SmsLink },
    private readonly log: Logger,
    private readonly controls?: SmsControls,
  ) {}

  /** Calls `listener` after a message is queued (the sender wakes). */
  onEnqueued(listener: () => void): void {
    this.enqueued.push(listener);
  }

  private wake(): void {
    for (const l of this.enqueued) l();
  }

  /**
   * Stores an e-mail from a template (zh or en) for the recipients and queues it; returns the stored record.
   * Without SMTP configured the record is `failed` with "email is not configured". Invalid input throws AppError.
   */
  async email(input: EmailRequest, db: Executor = this.db): Promise<EmailMessage> {
    const to = [...new Set(input.to.map((a) => a.trim()))];
    if (to.length === 0) throw invalid('invalid_recipients', 'an e-mail needs at least one recipient');
    const bad = to.filter((a) => !isEmailAddress(a));
    if (bad.length) throw invalid('invalid_recipients', `not e-mail addresses: ${bad.join(', ')}`, { invalid: bad });
    if (to.length > 50) throw invalid('invalid_recipients', `at most 50 recipients per e-mail (got ${to.length})`);
    const rendered = renderEmail(input.template, input.lang, input.vars);
    const configured = this.transports.email !== undefined;
    const message = await repo.insertEmail(db, {
      id: newId('eml'),
      accountId: input.accountId,
      to,
      template: input.template,
      lang: input.lang,
      ...rendered,
      status: configured ? 'queued' : 'failed',
      error: configured ? null : EMAIL_NOT_CONFIGURED,
      at: this.clock.now(),
    });
    if (configured) this.wake();
    return message;
  }

  /**
   * Stores an SMS to an MSISDN (a person, or the SIM named by `iccid`) and queues it; returns the stored record.
   * Without an SMSC configured the record is `failed` with "SMS is not configured". Invalid input throws AppError.
   */
  async sms(input: SmsRequest, db: Executor = this.db, createdBy: string | null = null): Promise<SmsMessage> {
    const msisdn = normalizeMsisdn(input.to);
    if (!msisdn) throw invalid('invalid_msisdn', `${input.to} is not an MSISDN: 6-15 digits, country code first (e.g. 8613800138000)`);
    checkText(input.text);
    if (input.iccid !== undefined && this.controls) {
      const refusal = smsRefusal(await this.controls.policyOf(input.iccid, db), input.iccid, this.controls.sender);
      if (refusal) throw conflict(refusal.code, refusal.message, { iccid: input.iccid });
    }
    const configured = this.transports.sms !== undefined;
    const message = await repo.insertSms(db, {
      id: newId('sms'),
      accountId: input.accountId,
      direction: 'mt',
      iccid: input.iccid ?? null,
      msisdn,
      text: input.text,
      encoding: chooseEncoding(input.text),
      segments: segmentCount(input.text),
      status: configured ? 'queued' : 'failed',
      error: configured ? null : SMS_NOT_CONFIGURED,
      createdBy,
      at: this.clock.now(),
    });
    if (configured) this.wake();
    return message;
  }

  /** POST /sms: to a SIM by ICCID (its MSISDN, within the caller's scope) or to an MSISDN. */
  async sendSms(principal: Principal, input: { iccid?: string; msisdn?: string; text: string }): Promise<SmsMessage> {
    requirePermission(principal, 'sms:send');
    if ((input.iccid === undefined) === (input.msisdn === undefined)) {
      throw invalid('invalid_sms_target', 'give exactly one of iccid (a SIM of yours) or msisdn (a phone number)');
    }
    checkText(input.text);
    if (input.iccid !== undefined) {
      const sim = await this.sims.getSimRow(principal, input.iccid);
      if (!sim.msisdn) throw invalid('sim_has_no_msisdn', `SIM ${sim.iccid} has no MSISDN, so it cannot be sent an SMS`);
      return this.sms({ accountId: sim.account_id, to: sim.msisdn, text: input.text, iccid: sim.iccid }, this.db, principal.actor);
    }
    const msisdn = normalizeMsisdn(input.msisdn!);
    if (!msisdn) throw invalid('invalid_msisdn', `${input.msisdn} is not an MSISDN: 6-15 digits, country code first (e.g. 8613800138000)`);
    const owner = await repo.findSimByMsisdn(this.db, msisdn);
    if (owner) {
      // NOTE: an MSISDN of a SIM is sent to only by accounts that see the SIM; to others it does not exist.
      const [visible] = await this.sims.lookup(principal, 'msisdn', [msisdn]);
      if (!visible?.sim) throw new AppError('sim_not_found', `no SIM with MSISDN ${msisdn} is visible to this account`, 404);
      return this.sms({ accountId: owner.accountId, to: msisdn, text: input.text, iccid: owner.iccid }, this.db, principal.actor);
    }
    return this.sms({ accountId: principal.accountId, to: msisdn, text: input.text }, this.db, principal.actor);
  }

  async getSms(principal: Principal, id: string): Promise<SmsMessage> {
    requirePermission(principal, 'read');
    const m = await repo.findSms(this.db, id, scopeOf(principal));
    if (!m) throw notFound('sms', id);
    return m;
  }

  listSms(principal: Principal, filter: repo.SmsFilter): Promise<SmsMessage[]> {
    requirePermission(principal, 'read');
    return repo.listSms(this.db, scopeOf(principal), filter);
  }

  async getEmail(principal: Principal, id: string): Promise<EmailMessage> {
    requirePermission(principal, 'read');
    const m = await repo.findEmail(this.db, id, scopeOf(principal));
    if (!m) throw notFound('notification', id);
    return m;
  }

  listEmails(principal: Principal, filter: { status?: EmailStatus; template?: string; before?: string; limit: number }): Promise<EmailMessage[]> {
    requirePermission(principal, 'read');
    return repo.listEmails(this.db, scopeOf(principal), filter);
  }

  /** One pass of the e-mail sender: due messages are sent, failures retried with backoff or recorded. Returns how many were tried. */
  async deliverEmails(): Promise<number> {
    const transport = this.transports.email;
    if (!transport) return 0;
    const due = await repo.claimDueEmails(this.db, this.clock.now(), BATCH);
    for (const m of due) {
      try {
        const { messageId } = await transport.send({ to: m.to, subject: m.subject, text: m.text, html: m.html });
        await repo.markEmailSent(this.db, m.id, messageId, this.clock.now());
      } catch (err) {
        const { error, retryAt } = this.afterFailure(err, m.attempts);
        await repo.markEmailAttemptFailed(this.db, m.id, error, retryAt, this.clock.now());
        this.log.warn({ emailId: m.id, attempts: m.attempts, error, retryAt }, retryAt ? 'e-mail not sent; will retry' : 'e-mail failed');
      }
    }
    return due.length;
  }

  /** One pass of the SMS sender, while the SMSC link is bound. Returns how many were tried. */
  async deliverSms(): Promise<number> {
    const link = this.transports.sms;
    if (!link?.isBound()) return 0;
    const due = await repo.claimDueSms(this.db, this.clock.now(), BATCH);
    for (const [i, m] of due.entries()) {
      if (!link.isBound()) {
        await repo.releaseSms(this.db, due.slice(i).map((d) => d.id), this.clock.now());
        break;
      }
      this.reference = (this.reference + 1) & 0xff;
      const write = (async () => {
        try {
          const ids = await link.submit(m.msisdn, encodeSms(m.text, this.reference));
          const at = this.clock.now();
          const outcome = await this.db.transaction().execute(async (trx) => {
            await repo.markSmsSubmitted(trx, m.id, ids, at);
            // NOTE: an MT message counts once the SMSC accepted every segment, in the transaction that records it.
            if (!m.iccid || !this.controls) return undefined;
            const dedupeKey = smsDedupeKey({ direction: 'mt', smsId: m.id, msisdn: m.msisdn, text: m.text, at }, undefined);
            return this.controls.usage.record(trx, { smsId: m.id, dedupeKey, iccid: m.iccid, direction: 'mt', parts: ids.length, at });
          });
          if (outcome) await this.controls!.usage.settle(outcome);
        } catch (err) {
          if (!link.isBound() && !(err instanceof DeliveryError && err.permanent)) {
            // NOTE: the link went down under the submit: the message waits for the next bind, the attempt is not counted.
            await repo.releaseSms(this.db, [m.id], this.clock.now());
            return;
          }
          const { error, retryAt } = this.afterFailure(err, m.attempts);
          await repo.markSmsAttemptFailed(this.db, m.id, error, retryAt, this.clock.now());
          this.log.warn({ smsId: m.id, attempts: m.attempts, error, retryAt }, retryAt ? 'SMS not submitted; will retry' : 'SMS failed');
        }
      })();
      this.submitting.add(write);
      try {
        await write;
      } finally {
        this.submitting.delete(write);
      }
    }
    return due.length;
  }

  private afterFailure(err: unknown, attempts: number): { error: string; retryAt: Date | null } {
    const permanent = err instanceof DeliveryError && err.permanent;
    const error = err instanceof Error ? err.message : String(err);
    const retryAt = permanent || attempts >= MAX_ATTEMPTS ? null : new Date(this.clock.now().getTime() + retryDelayMs(attempts));
    return { error: retryAt || permanent ? error : `${error} (gave up after ${attempts} attempts)`, retryAt };
  }

  /** Handles a deliver_sm: a receipt updates its MT message, anything else is an MO message. Resolves once stored. */
  async receive(incoming: IncomingSms): Promise<void> {
    if (incoming.isReceipt) await this.receiveReceipt(incoming);
    else await this.receiveMo(incoming);
  }

  private async receiveReceipt(incoming: IncomingSms): Promise<void> {
    const receipt = parseDeliveryReceipt(incoming.text, { receiptedMessageId: incoming.receiptedMessageId, messageState: incoming.messageState });
    if (!receipt) {
      this.log.warn({ source: incoming.source, text: incoming.text }, 'delivery receipt without message id or state; ignored');
      return;
    }
    if (this.submitting.size > 0) await Promise.allSettled([...this.submitting]);
    const now = this.clock.now();
    const updated = await this.db.transaction().execute(async (trx) => {
      const found = await repo.lockSmsBySmscId(trx, receipt.messageId);
      if (!found) return undefined;
      const { sms, seq } = found;
      const statuses = await repo.updateSegmentStatus(trx, sms.id, seq, receipt.status, now);
      const status = combinedStatus(statuses);
      if (status === sms.status && (receipt.errorCode ?? null) === sms.errorCode) return sms;
      const next = await repo.setSmsStatus(trx, sms.id, status, receipt.errorCode ?? sms.errorCode, isFinalMt(status) ? now : null, now);
      if (next.accountId) await publishSmsEvents(trx, [smsDeliveryUpdated(next, sms.status)], now);
      return next;
    });
    if (!updated) this.log.warn({ messageId: receipt.messageId }, 'delivery receipt for an unknown message id; ignored');
  }

  private async receiveMo(incoming: IncomingSms): Promise<void> {
    const msisdn = normalizeMsisdn(incoming.source) ?? incoming.source;
    const now = this.clock.now();
    const outcome = await this.db.transaction().execute(async (trx): Promise<SmsUsageOutcome | undefined> => {
      let text = incoming.text;
      let encoding = incoming.encoding;
      let segments = 1;
      const c = incoming.concatenation;
      if (c && c.total > 1) {
        const parts = await repo.addMoPart(trx, { msisdn, ref: c.ref, total: c.total, seq: c.seq, text, encoding, at: now });
        if (parts.length < c.total) return undefined;
        await repo.deleteMoParts(trx, msisdn, c.ref, c.total);
        text = parts.map((p) => p.text).join('');
        encoding = parts.some((p) => p.encoding === 'ucs2') ? 'ucs2' : 'gsm7';
        segments = c.total;
      }
      const sim = await repo.findSimByMsisdn(trx, msisdn);
      const id = newId('sms');
      const dedupeKey = smsDedupeKey({ direction: 'mo', smsId: id, msisdn, text, at: now }, incoming.reference);
      if (sim && this.controls && (await this.controls.usage.isCounted(trx, dedupeKey))) {
        this.log.info({ msisdn, reference: incoming.reference }, 'MO message retransmitted by the SMSC; stored and counted already');
        return undefined;
      }
      const sms = await repo.insertSms(trx, {
        id,
        accountId: sim?.accountId ?? null,
        direction: 'mo',
        iccid: sim?.iccid ?? null,
        msisdn,
        text,
        encoding,
        segments,
        status: MO_STATUS,
        error: null,
        createdBy: null,
        at: now,
      });
      if (sms.accountId) await publishSmsEvents(trx, [smsReceived(sms)], now);
      else this.log.warn({ smsId: sms.id, msisdn }, 'MO message from an MSISDN that matches no SIM; stored for the operator');
      if (!sim || !this.controls) return undefined;
      // NOTE: an MO message from a SIM whose plan has SMS off was carried by the network: it is stored, rated and alerted.
      const refusal = smsRefusal(await this.controls.policyOf(sim.iccid, trx), sim.iccid, null);
      if (refusal) {
        await this.controls.alerts.raise(
          trx,
          [{ accountId: sim.accountId, type: 'sms_service_off', severity: 'warning', subject: { kind: 'sim', id: sim.iccid }, message: `MO SMS ${sms.id} received from SIM ${sim.iccid} although SMS is off under its communication plan`, data: { smsId: sms.id, msisdn } }],
          now,
        );
      }
      return this.controls.usage.record(trx, { smsId: sms.id, dedupeKey, iccid: sim.iccid, direction: 'mo', parts: segments, at: now });
    });
    if (outcome) await this.controls!.usage.settle(outcome);
  }

  /** Drops parts of concatenated MO messages that stayed incomplete for a day. */
  pruneMoParts(): Promise<number> {
    return repo.deleteStaleMoParts(this.db, new Date(this.clock.now().getTime() - MO_PART_TTL_MS));
  }
}

function checkText(text: string): void {
  if (text.length === 0) throw invalid('invalid_sms_text', 'the SMS text is empty');
  if (text.length > MAX_TEXT_LENGTH || segmentCount(text) > MAX_SEGMENTS) {
    throw invalid('sms_too_long', `an SMS may take at most ${MAX_SEGMENTS} segments: ${MAX_TEXT_LENGTH} GSM 7-bit characters, or ${MAX_SEGMENTS * LIMITS.ucs2.segment} when the text needs UCS2 (Chinese)`);
  }
}

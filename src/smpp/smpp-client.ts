/** The SMPP 3.4 edge: one transceiver bind to the SMSC, kept alive with enquire_link and re-established with backoff. */
import type { Logger } from 'pino';
import smpp, { type Pdu, type Session } from 'smpp';
import type { IncomingSms, SmsLink } from '../modules/notifications/notification.service.ts';
import { DeliveryError } from '../modules/notifications/notification.ts';
import { concatenationOf, DATA_CODING, type EncodedSms, ESM_RECEIPT_MASK } from '../modules/notifications/sms.ts';

export interface SmppOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destTon: number;
  destNpi: number;
  enquireLinkMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** How long a request (bind, submit_sm, enquire_link) waits for its response before the link is taken as dead. */
  responseTimeoutMs: number;
}

const ERROR_NAMES = new Map(Object.entries(smpp.errors).map(([name, code]) => [code, name]));

/** command_status values after which the same submit_sm may succeed later. */
const TEMPORARY = new Set(['ESME_RSYSERR', 'ESME_RMSGQFUL', 'ESME_RTHROTTLED', 'ESME_RX_T_APPN', 'ESME_RSUBMITFAIL']);

export const statusName = (status: number): string =>
  `${ERROR_NAMES.get(status) ?? 'unknown status'} (0x${status.toString(16).padStart(8, '0')})`;

const stringField = (value: unknown): string => (typeof value === 'string' ? value : '');

function textOf(pdu: Pdu): string {
  const field = (pdu.short_message ?? pdu.message_payload) as { message?: unknown } | Buffer | string | undefined;
  if (typeof field === 'string') return field;
  if (Buffer.isBuffer(field)) return field.toString('latin1');
  const message = field?.message;
  return typeof message === 'string' ? message : Buffer.isBuffer(message) ? message.toString('latin1') : '';
}

/** A deliver_sm as the notification service takes it. */
export function decodeDeliverSm(pdu: Pdu): IncomingSms {
  const esmClass = Number(pdu.esm_class ?? 0);
  const udh = (pdu.short_message as { udh?: Buffer[] } | undefined)?.udh;
  const dataCoding = Number(pdu.data_coding ?? 0) & 0x0f;
  return {
    source: stringField(pdu.source_addr),
    text: textOf(pdu),
    encoding: dataCoding === DATA_CODING.ucs2 ? 'ucs2' : 'gsm7',
    isReceipt: (esmClass & ESM_RECEIPT_MASK) !== 0,
    ...(udh ? { concatenation: concatenationOf(udh) } : {}),
    ...(typeof pdu.receipted_message_id === 'string' ? { receiptedMessageId: pdu.receipted_message_id } : {}),
    ...(typeof pdu.message_state === 'number' ? { messageState: pdu.message_state } : {}),
    ...(typeof pdu.user_message_reference === 'number' ? { reference: pdu.user_message_reference } : {}),
  };
}

export class SmppClient implements SmsLink {
  private session?: Session;
  private bound = false;
  private stopped = true;
  private failures = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private enquireTimer?: NodeJS.Timeout;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly boundListeners: (() => void)[] = [];

  constructor(
    private readonly options: SmppOptions,
    private readonly onIncoming: (sms: IncomingSms) => Promise<void>,
    private readonly log: Logger,
  ) {}

  isBound(): boolean {
    return this.bound;
  }

  /** Calls `listener` each time the transceiver bind succeeds (queued messages can go). */
  onBound(listener: () => void): void {
    this.boundListeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Unbinds (waiting briefly for the answer) and closes the link; no reconnect after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.enquireTimer);
    const session = this.session;
    if (!session) return;
    if (this.bound) await this.request((cb) => session.unbind({}, cb), 1000).catch(() => undefined);
    this.bound = false;
    await new Promise<void>((resolve) => {
      if (session.socket.destroyed) return resolve();
      session.socket.once('close', () => resolve());
      session.destroy();
    });
  }

  private connect(): void {
    const o = this.options;
    const session = smpp.connect({ host: o.host, port: o.port });
    this.session = session;
    session.on('connect', () => {
      this.request(
        (cb) => session.bind_transceiver({ system_id: o.systemId, password: o.password, system_type: o.systemType, interface_version: 0x34 }, cb),
        o.responseTimeoutMs,
      ).then(
        (pdu) => {
          if (pdu.command_status !== 0) {
            this.log.error({ status: statusName(pdu.command_status), systemId: o.systemId }, 'the SMSC refused the transceiver bind');
            session.destroy();
            return;
          }
          this.bound = true;
          this.failures = 0;
          this.log.info({ host: o.host, port: o.port, systemId: o.systemId }, 'bound to the SMSC as transceiver');
          this.enquireTimer = setInterval(() => this.keepAlive(session), o.enquireLinkMs);
          for (const l of this.boundListeners) l();
        },
        (err: unknown) => {
          this.log.warn({ err }, 'no answer to bind_transceiver');
          session.destroy();
        },
      );
    });
    session.on('deliver_sm', (pdu: Pdu) => this.deliver(session, pdu));
    session.on('enquire_link', (pdu: Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: Pdu) => {
      this.bound = false;
      session.send(pdu.response());
      session.close();
    });
    session.on('error', (err: Error) => this.log.warn({ err: err.message, host: o.host, port: o.port }, 'SMSC link error'));
    session.on('close', () => {
      if (this.session !== session) return;
      const wasBound = this.bound;
      this.bound = false;
      clearInterval(this.enquireTimer);
      for (const reject of [...this.pending]) reject(new DeliveryError('the SMSC link closed before the answer came', false));
      this.pending.clear();
      if (this.stopped) return;
      const delay = Math.min(o.reconnectMinMs * 2 ** this.failures, o.reconnectMaxMs);
      this.failures++;
      if (wasBound) this.log.warn({ delayMs: delay }, 'SMSC link lost; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private keepAlive(session: Session): void {
    this.request((cb) => session.enquire_link({}, cb), this.options.responseTimeoutMs).catch(() => {
      this.log.warn('no answer to enquire_link; reconnecting');
      session.destroy();
    });
  }

  /** Sends a request and resolves with its response; rejects on timeout or when the link closes. */
  private request(send: (cb: (pdu: Pdu) => void) => boolean, timeoutMs: number): Promise<Pdu> {
    return new Promise<Pdu>((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => fail(new DeliveryError(`no answer from the SMSC within ${timeoutMs} ms`, false)), timeoutMs);
      this.pending.add(fail);
      const written = send((pdu) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        resolve(pdu);
      });
      if (!written) fail(new DeliveryError('the SMSC link is not writable', false));
    });
  }

  async submit(to: string, sms: EncodedSms): Promise<string[]> {
    const o = this.options;
    const ids: string[] = [];
    for (const segment of sms.segments) {
      const session = this.session;
      if (!this.bound || !session) throw new DeliveryError('the SMSC link is down', false);
      const pdu = await this.request(
        (cb) =>
          session.submit_sm(
            {
              source_addr_ton: o.sourceTon,
              source_addr_npi: o.sourceNpi,
              source_addr: o.sourceAddr,
              dest_addr_ton: o.destTon,
              dest_addr_npi: o.destNpi,
              destination_addr: to,
              esm_class: sms.esmClass,
              registered_delivery: 0x01,
              data_coding: sms.dataCoding,
              short_message: segment.shortMessage,
            },
            cb,
          ),
        o.responseTimeoutMs,
      );
      if (pdu.command_status !== 0) {
        const name = statusName(pdu.command_status);
        throw new DeliveryError(`the SMSC refused submit_sm: ${name}`, !TEMPORARY.has(ERROR_NAMES.get(pdu.command_status) ?? ''));
      }
      ids.push(stringField(pdu.message_id));
    }
    return ids;
  }

  private deliver(session: Session, pdu: Pdu): void {
    let incoming: IncomingSms;
    try {
      incoming = decodeDeliverSm(pdu);
    } catch (err) {
      this.log.warn({ err }, 'deliver_sm that could not be decoded; refused');
      session.send(pdu.response({ command_status: smpp.errors.ESME_RINVMSGLEN }));
      return;
    }
    // NOTE: deliver_sm_resp goes only once the message is stored; a failure asks the SMSC to deliver it again later.
    this.onIncoming(incoming).then(
      () => session.send(pdu.response()),
      (err: unknown) => {
        this.log.error({ err, source: incoming.source }, 'could not store a deliver_sm; the SMSC will retry');
        session.send(pdu.response({ command_status: smpp.errors.ESME_RX_T_APPN }));
      },
    );
  }
}

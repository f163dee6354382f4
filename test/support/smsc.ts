import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import smpp, { type Pdu, type Server, type Session } from 'smpp';

export interface Submitted {
  pdu: Pdu;
  messageId: string;
  destination: string;
  dataCoding: number;
  text: string;
  concat?: { ref: number; total: number; seq: number };
}

/** A free TCP port on 127.0.0.1 (nothing listens there when this resolves). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Waits until `check` returns a value (not undefined/false), polling every 20 ms, at most `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A real SMSC for tests (the smpp package's server): takes transceiver binds, answers submit_sm, sends receipts and MO messages. */
export class TestSmsc {
  readonly binds: { systemId: string; password: string; systemType: string }[] = [];
  readonly submitted: Submitted[] = [];
  /** Status put in the receipt sent after each submit_sm; null sends none. */
  receipt: 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | null = 'DELIVRD';
  enquireLinks = 0;
  /** Submits to take without an answer before dropping the connection (a link that dies under a submit). */
  dropOnSubmit = 0;
  private server: Server | undefined;
  private next = 1;
  port = 0;

  constructor(private readonly credentials: { systemId: string; password: string }) {}

  async start(port = 0): Promise<number> {
    const server = smpp.createServer({}, (session) => this.serve(session));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of [...server.sessions]) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bound sessions. */
  sessions(): Session[] {
    return this.server?.sessions ?? [];
  }

  private serve(session: Session): void {
    session.on('bind_transceiver', (pdu: Pdu) => {
      const systemId = pdu.system_id as string;
      const password = pdu.password as string;
      this.binds.push({ systemId, password, systemType: pdu.system_type as string });
      const ok = systemId === this.credentials.systemId && password === this.credentials.password;
      session.send(pdu.response({ command_status: ok ? 0 : smpp.errors.ESME_RINVPASWD, system_id: 'testsmsc' }));
      if (!ok) session.close();
    });
    session.on('enquire_link', (pdu: Pdu) => {
      this.enquireLinks++;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: Pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', () => undefined);
    session.on('submit_sm', (pdu: Pdu) => {
      if (this.dropOnSubmit > 0) {
        this.dropOnSubmit--;
        session.destroy();
        return;
      }
      const messageId = `m${this.next++}`;
      const sm = pdu.short_message as { udh?: Buffer[]; message: string };
      const udh = sm.udh?.find((e) => e[0] === 0);
      this.submitted.push({
        pdu,
        messageId,
        destination: pdu.destination_addr as string,
        dataCoding: pdu.data_coding as number,
        text: sm.message,
        ...(udh ? { concat: { ref: udh[2]!, total: udh[3]!, seq: udh[4]! } } : {}),
      });
      session.send(pdu.response({ message_id: messageId }));
      if (this.receipt && pdu.registered_delivery) {
        const stat = this.receipt;
        const state = { DELIVRD: 2, UNDELIV: 5, EXPIRED: 3 }[stat];
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: 0x04,
          short_message: `id:${messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2601150200 done date:2601150201 stat:${stat} err:${stat === 'DELIVRD' ? '000' : '012'} text:`,
          receipted_message_id: messageId,
          message_state: state,
        });
      }
    });
  }

  /** Sends an MO deliver_sm (one part, or several with a concatenation header) and resolves with each command_status; `together` sends all parts before any answer. */
  async sendMo(from: string, parts: { text: string; ucs2?: boolean; concat?: { ref: number; total: number; seq: number }; reference?: number }[], together = false): Promise<number[]> {
    const session = this.sessions()[0];
    if (!session) throw new Error('no bound session');
    const one = (p: (typeof parts)[number]) => {
      const body = p.ucs2 ? Buffer.from(p.text, 'utf16le').swap16() : Buffer.from(p.text, 'latin1');
      const header = p.concat ? Buffer.from([5, 0, 3, p.concat.ref, p.concat.total, p.concat.seq]) : Buffer.alloc(0);
      return new Promise<number>((resolve) =>
        session.deliver_sm(
          {
            source_addr: from,
            destination_addr: '10690000',
            esm_class: p.concat ? 0x40 : 0,
            data_coding: p.ucs2 ? 8 : 0,
            short_message: Buffer.concat([header, body]),
            ...(p.reference === undefined ? {} : { user_message_reference: p.reference }),
          },
          (resp) => resolve(resp.command_status),
        ),
      );
    };
    if (together) return Promise.all(parts.map(one));
    const statuses: number[] = [];
    for (const p of parts) statuses.push(await one(p));
    return statuses;
  }

  /** The texts of the submitted messages per destination, concatenated segments reassembled in order. */
  reassembled(): { destination: string; text: string; segments: number; dataCoding: number }[] {
    const out: { destination: string; text: string; segments: number; dataCoding: number }[] = [];
    const groups = new Map<string, Submitted[]>();
    for (const s of this.submitted) {
      if (!s.concat) {
        out.push({ destination: s.destination, text: s.text, segments: 1, dataCoding: s.dataCoding });
        continue;
      }
      const key = `${s.destination}/${s.concat.ref}/${s.concat.total}`;
      const list = groups.get(key) ?? [];
      list.push(s);
      groups.set(key, list);
      if (list.length === s.concat.total) {
        list.sort((a, b) => a.concat!.seq - b.concat!.seq);
        out.push({ destination: s.destination, text: list.map((x) => x.text).join(''), segments: list.length, dataCoding: s.dataCoding });
      }
    }
    return out;
  }
}

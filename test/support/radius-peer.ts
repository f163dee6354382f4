import { createSocket, type Socket } from 'node:dgram';
import { AcctStatus, Attr, Attr3gpp, attr, attr3gpp, Code, type OutgoingAttribute } from '../../src/radius/attributes.ts';
import { decodePacket, encodeAccessRequest, encodeReply, encodeRequest, type RadiusPacket, verifyRequestAuthenticator, verifyResponseAuthenticator } from '../../src/radius/codec.ts';

/** A gateway (NAS) for tests: sends RADIUS requests from its own UDP socket and waits for verified replies. */
export class TestGateway {
  private nextId = 0;
  private readonly waiting = new Map<number, (p: RadiusPacket | undefined) => void>();
  private authenticators = new Map<number, Buffer>();

  private constructor(
    private readonly socket: Socket,
    readonly secret: string,
  ) {
    socket.on('message', (msg) => {
      const p = decodePacket(msg);
      const auth = this.authenticators.get(p.identifier);
      const done = this.waiting.get(p.identifier);
      if (!auth || !done || !verifyResponseAuthenticator(msg, auth, this.secret)) return;
      this.waiting.delete(p.identifier);
      done(p);
    });
  }

  static async open(secret: string, address = '127.0.0.1'): Promise<TestGateway> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, address, () => r()));
    return new TestGateway(socket, secret);
  }

  /** Sends a packet and waits for its reply (undefined after `timeoutMs`, i.e. dropped). */
  send(packet: Buffer, port: number, timeoutMs = 2000): Promise<RadiusPacket | undefined> {
    const id = packet[1]!;
    this.authenticators.set(id, packet.subarray(4, 20));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
      this.socket.send(packet, port, '127.0.0.1');
    });
  }

  accounting(
    port: number,
    status: keyof typeof AcctStatus,
    fields: { sessionId?: string; imsi: string; bytesIn?: number; bytesOut?: number; extra?: OutgoingAttribute[] },
    secret = this.secret,
    timeoutMs = 2000,
  ) {
    const id = this.nextId++ & 0xff;
    const attrs: OutgoingAttribute[] = [attr(Attr.AcctStatusType, AcctStatus[status]), attr3gpp(Attr3gpp.Imsi, fields.imsi), attr(Attr.UserName, fields.imsi)];
    if (fields.sessionId) attrs.push(attr(Attr.AcctSessionId, fields.sessionId));
    const bytesIn = fields.bytesIn ?? 0;
    const bytesOut = fields.bytesOut ?? 0;
    attrs.push(
      attr(Attr.AcctInputOctets, bytesIn % 2 ** 32),
      attr(Attr.AcctInputGigawords, Math.floor(bytesIn / 2 ** 32)),
      attr(Attr.AcctOutputOctets, bytesOut % 2 ** 32),
      attr(Attr.AcctOutputGigawords, Math.floor(bytesOut / 2 ** 32)),
      attr(Attr.NasIpAddress, Buffer.from([127, 0, 0, 1])),
      ...(fields.extra ?? []),
    );
    return this.send(encodeRequest(Code.AccountingRequest, id, attrs, secret), port, timeoutMs);
  }

  access(port: number, imsi: string, extra: OutgoingAttribute[] = []) {
    const id = this.nextId++ & 0xff;
    return this.send(encodeAccessRequest(id, [attr(Attr.UserName, imsi), attr3gpp(Attr3gpp.Imsi, imsi), ...extra], this.secret, { password: 'x' }), port);
  }

  rawSend(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** A gateway's Dynamic Authorization server (RFC 5176) for tests: records Disconnect-Requests and answers ACK or NAK. */
export class TestDae {
  readonly received: RadiusPacket[] = [];
  answer: 'ack' | 'nak' | 'silent' = 'ack';
  private constructor(
    private readonly socket: Socket,
    secret: string,
  ) {
    socket.on('message', (msg, rinfo) => {
      if (!verifyRequestAuthenticator(msg, secret)) return;
      const p = decodePacket(msg);
      this.received.push(p);
      if (this.answer === 'silent') return;
      const code = this.answer === 'ack' ? Code.DisconnectAck : Code.DisconnectNak;
      socket.send(encodeReply(p, code, this.answer === 'nak' ? [attr(Attr.ErrorCause, 503)] : [], secret), rinfo.port, rinfo.address);
    });
  }

  static async open(secret: string): Promise<TestDae> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new TestDae(socket, secret);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, attr, Code, ErrorCause, ipv4Value, type OutgoingAttribute } from '../src/radius/attributes.ts';
import { decodePacket, encodeReply, type RadiusPacket, verifyRequestAuthenticator } from '../src/radius/codec.ts';
import { DynamicAuthorizationClient, sendDisconnect } from '../src/radius/disconnect-client.ts';

const SECRET = 'coa-secret';

type Behaviour = (p: RadiusPacket, copy: number, send: (reply: Buffer) => void) => void;

/** A NAS stand-in: decodes each Disconnect-Request, checks it, and answers as the User-Name asks. */
class FakeNas {
  socket!: Socket;
  port = 0;
  readonly received: { packet: RadiusPacket; bytes: string; authentic: boolean }[] = [];
  private readonly copies = new Map<string, number>();
  /** identifier -> bytes of requests received and not yet answered (collision check). */
  private readonly open = new Map<number, string>();
  collisions = 0;
  maxOpen = 0;

  constructor(private readonly behaviours: Record<string, Behaviour>) {}

  /** Forgets requests left unanswered on purpose by earlier cases (their identifiers are free again). */
  resetTracking(): void {
    this.open.clear();
    this.collisions = 0;
    this.maxOpen = 0;
  }

  async start(): Promise<void> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const packet = decodePacket(msg);
    const bytes = msg.toString('hex');
    this.received.push({ packet, bytes, authentic: verifyRequestAuthenticator(msg, SECRET) });
    const known = this.open.get(packet.identifier);
    if (known !== undefined && known !== bytes) this.collisions++;
    this.open.set(packet.identifier, bytes);
    this.maxOpen = Math.max(this.maxOpen, this.open.size);
    const copy = (this.copies.get(bytes) ?? 0) + 1;
    this.copies.set(bytes, copy);
    const name = packet.attributes.getText(Attr.UserName) ?? '';
    const behaviour = this.behaviours[name.split(':')[0]!];
    behaviour?.(packet, copy, (reply) => {
      if (this.open.get(packet.identifier) === bytes) this.open.delete(packet.identifier);
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
  }
}

const ack = (p: RadiusPacket): Buffer => encodeReply(p, Code.DisconnectAck, [], SECRET);
const nak = (p: RadiusPacket, cause: number): Buffer => encodeReply(p, Code.DisconnectNak, [attr(Attr.ErrorCause, cause)], SECRET);
const forged = (p: RadiusPacket): Buffer => {
  const reply = ack(p);
  reply[5]! ^= 0xff;
  return reply;
};

const nas = new FakeNas({
  ack: (p, _copy, send) => send(ack(p)),
  nak: (p, _copy, send) => send(nak(p, ErrorCause.SessionContextNotFound)),
  late: (p, copy, send) => {
    if (copy === 3) send(ack(p));
  },
  never: () => undefined,
  forged: (p, _copy, send) => send(forged(p)),
  'forged-then-ack': (p, _copy, send) => {
    send(forged(p));
    send(encodeReply(p, Code.CoaAck, [], SECRET)); // right authenticator, wrong code
    setTimeout(() => send(ack(p)), 5);
  },
  slow: (p, _copy, send) => setTimeout(() => send(ack(p)), 100),
});

const client = new DynamicAuthorizationClient();

const session = (userName: string): OutgoingAttribute[] => [
  attr(Attr.UserName, userName),
  attr(Attr.AcctSessionId, `sess-${userName}`),
  attr(Attr.FramedIpAddress, ipv4Value('100.64.0.7')),
  attr(Attr.CallingStationId, '8613800138000'),
  attr(Attr.NasIpAddress, ipv4Value('127.0.0.1')),
];

const request = (userName: string, over: { timeoutMs?: number; retries?: number } = {}) => ({
  host: '127.0.0.1',
  port: nas.port,
  secret: SECRET,
  attributes: session(userName),
  timeoutMs: over.timeoutMs ?? 100,
  retries: over.retries ?? 2,
});

beforeAll(() => nas.start());
afterAll(async () => {
  await client.close();
  await nas.stop();
});

describe('Disconnect-Request client (RFC 5176) against a UDP listener', () => {
  it('sends an authentic Disconnect-Request and resolves ack', async () => {
    const r = await client.sendDisconnect(request('ack'));
    expect(r).toMatchObject({ result: 'ack', attempts: 1 });
    expect(r.errorCause).toBeUndefined();
    expect(r.ms).toBeLessThan(100);
    const got = nas.received.find((x) => x.packet.attributes.getText(Attr.UserName) === 'ack')!;
    expect(got.packet.code).toBe(Code.DisconnectRequest);
    expect(got.authentic).toBe(true);
    expect(got.packet.attributes.getText(Attr.AcctSessionId)).toBe('sess-ack');
    expect(got.packet.attributes.get(Attr.FramedIpAddress)).toEqual(Buffer.from([100, 64, 0, 7]));
    expect(got.packet.attributes.getText(Attr.CallingStationId)).toBe('8613800138000');
  });

  it('resolves nak with the Error-Cause', async () => {
    const r = await client.sendDisconnect(request('nak'));
    expect(r).toMatchObject({ result: 'nak', errorCause: 503, attempts: 1 });
    expect(r.reply?.code).toBe(Code.DisconnectNak);
  });

  it('retransmits the same datagram with exponential backoff until a late answer', async () => {
    const r = await client.sendDisconnect(request('late', { timeoutMs: 40, retries: 4 }));
    expect(r).toMatchObject({ result: 'ack', attempts: 3 });
    // answered on the third copy: waited 40 + 80 ms before it
    expect(r.ms).toBeGreaterThanOrEqual(115);
    expect(r.ms).toBeLessThan(40 + 80 + 160);
    const copies = nas.received.filter((x) => x.packet.attributes.getText(Attr.UserName) === 'late');
    expect(copies).toHaveLength(3);
    expect(new Set(copies.map((c) => c.bytes)).size).toBe(1);
  });

  it('times out after the retries when nothing answers', async () => {
    const r = await client.sendDisconnect(request('never', { timeoutMs: 30, retries: 2 }));
    expect(r).toMatchObject({ result: 'timeout', attempts: 3 });
    expect(r.ms).toBeGreaterThanOrEqual(30 + 60 + 120 - 5);
  });

  it('ignores replies with a wrong authenticator or code', async () => {
    const forged = await client.sendDisconnect(request('forged', { timeoutMs: 30, retries: 1 }));
    expect(forged).toMatchObject({ result: 'timeout', attempts: 2 });
    const later = await client.sendDisconnect(request('forged-then-ack', { timeoutMs: 500, retries: 0 }));
    expect(later).toMatchObject({ result: 'ack', attempts: 1 });
  });

  it('keeps identifiers unique among outstanding requests, more than 256 at once to one gateway', async () => {
    nas.resetTracking();
    const results = await Promise.all(Array.from({ length: 600 }, () => client.sendDisconnect(request('slow', { timeoutMs: 2000, retries: 1 }))));
    expect(results.every((r) => r.result === 'ack')).toBe(true);
    expect(nas.collisions).toBe(0);
    expect(nas.maxOpen).toBeLessThanOrEqual(256);
    expect(nas.maxOpen).toBeGreaterThan(200);
  });

  it('works through the process-wide sendDisconnect too', async () => {
    expect(await sendDisconnect(request('ack'))).toMatchObject({ result: 'ack', attempts: 1 });
  });

  it('ends outstanding requests as timeout when closed', async () => {
    const own = new DynamicAuthorizationClient();
    const pending = own.sendDisconnect(request('never', { timeoutMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 20));
    await own.close();
    expect(await pending).toMatchObject({ result: 'timeout', attempts: 1 });
    await expect(own.sendDisconnect(request('ack'))).rejects.toThrow(/closed/);
  });
});

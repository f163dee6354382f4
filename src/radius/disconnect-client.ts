/**
 * Dynamic Authorization client (RFC 5176): Disconnect-Request and CoA-Request to gateways over one shared UDP socket
 * per address family, with identifier management per destination, retransmission with exponential backoff and
 * replies matched by identifier and checked by their Response Authenticator.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Attr, Code, type OutgoingAttribute } from './attributes.ts';
import { decodePacket, encodeRequest, type RadiusPacket, RadiusDecodeError, type Secret, verifyMessageAuthenticator, verifyResponseAuthenticator } from './codec.ts';

export const DYNAMIC_AUTHORIZATION_PORT = 3799;

export interface DynamicAuthorizationRequest {
  /** The gateway (NAS): an IP address or a host name. */
  readonly host: string;
  /** Defaults to 3799. */
  readonly port?: number;
  readonly secret: Secret;
  /** Session identification, typically User-Name, Acct-Session-Id, Framed-IP-Address, Calling-Station-Id, NAS-IP-Address. */
  readonly attributes: readonly OutgoingAttribute[];
  /** Wait for the first reply; each retransmission doubles it (capped at `maxWaitMs`). Default 1000. */
  readonly timeoutMs?: number;
  /** Retransmissions after the first send. Default 2. */
  readonly retries?: number;
  /** Add a Message-Authenticator to the request. Default false. */
  readonly messageAuthenticator?: boolean;
}

export interface DynamicAuthorizationResult {
  readonly result: 'ack' | 'nak' | 'timeout';
  /** Error-Cause of a NAK (or an ACK that carries one). */
  readonly errorCause?: number;
  /** Datagrams sent: 1 + retransmissions. */
  readonly attempts: number;
  /** From the first send to the answer or the give-up. */
  readonly ms: number;
  /** The last send error when sending failed (the result is then 'timeout'). */
  readonly error?: string;
  readonly reply?: RadiusPacket;
}

export interface DynamicAuthorizationClientOptions {
  /** Upper bound of one wait between retransmissions. Default 30,000 ms. */
  readonly maxWaitMs?: number;
}

interface Pending {
  readonly identifier: number;
  readonly packet: Buffer;
  readonly authenticator: Buffer;
  readonly secret: Secret;
  readonly ackCode: number;
  readonly nakCode: number;
  readonly started: number;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  readonly resolve: (r: DynamicAuthorizationResult) => void;
}

/** Marks an identifier taken by a request that is not sent yet. */
const RESERVED = Symbol('reserved');

/** The identifiers of one destination (address and port): 256, none shared among outstanding requests. */
class Destination {
  readonly slots: (Pending | typeof RESERVED | undefined)[] = new Array<Pending | typeof RESERVED | undefined>(256).fill(undefined);
  /** Requests waiting for a free identifier, in order. */
  private readonly waiting: ((identifier: number) => void)[] = [];
  // NOTE: identifiers rotate so a freed one is reused as late as possible: a reply that arrives after its request
  // gave up then finds no match (and would fail the authenticator check against a newer request anyway).
  private next = Math.floor(Math.random() * 256);

  /** A free identifier, reserved until `release`; waits while all 256 are taken. */
  acquire(): Promise<number> | number {
    for (let k = 0; k < 256; k++) {
      const id = (this.next + k) & 0xff;
      if (this.slots[id] === undefined) {
        this.next = (id + 1) & 0xff;
        this.slots[id] = RESERVED;
        return id;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Frees an identifier, or hands it straight to the oldest waiting request (still reserved, so no one else takes it). */
  release(identifier: number): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) {
      this.slots[identifier] = undefined;
      return;
    }
    this.slots[identifier] = RESERVED;
    waiter(identifier);
  }

  pending(): Pending[] {
    return this.slots.filter((p): p is Pending => p !== undefined && p !== RESERVED);
  }
}

/** Sends Disconnect-Request and CoA-Request packets; one instance per process is enough. */
export class DynamicAuthorizationClient {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  private readonly destinations = new Map<string, Destination>();
  private readonly maxWaitMs: number;
  private closed = false;

  constructor(options: DynamicAuthorizationClientOptions = {}) {
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
  }

  /**
   * Asks the gateway to end a session (RFC 5176 Disconnect-Request); resolves ACK, NAK with its Error-Cause, or
   * timeout. Rejects only when the host name does not resolve or the client is closed.
   */
  sendDisconnect(request: DynamicAuthorizationRequest): Promise<DynamicAuthorizationResult> {
    return this.send(Code.DisconnectRequest, Code.DisconnectAck, Code.DisconnectNak, request);
  }

  /** Changes a session's authorization (RFC 5176 CoA-Request). */
  sendCoa(request: DynamicAuthorizationRequest): Promise<DynamicAuthorizationResult> {
    return this.send(Code.CoaRequest, Code.CoaAck, Code.CoaNak, request);
  }

  /** Closes the sockets; requests still outstanding end as 'timeout'. */
  async close(): Promise<void> {
    this.closed = true;
    for (const dest of this.destinations.values()) {
      for (const p of dest.pending()) this.finish(dest, p, { result: 'timeout' });
    }
    const sockets = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private async send(code: number, ackCode: number, nakCode: number, request: DynamicAuthorizationRequest): Promise<DynamicAuthorizationResult> {
    if (this.closed) throw new Error('the dynamic authorization client is closed');
    const started = performance.now();
    const address = isIP(request.host) !== 0 ? request.host : (await lookup(request.host)).address;
    const port = request.port ?? DYNAMIC_AUTHORIZATION_PORT;
    const family = isIP(address) === 6 ? 'udp6' : 'udp4';
    const socket = this.socket(family);
    const key = destinationKey(address, port);
    let dest = this.destinations.get(key);
    if (dest === undefined) {
      dest = new Destination();
      this.destinations.set(key, dest);
    }
    const acquired = dest.acquire();
    const identifier = typeof acquired === 'number' ? acquired : await acquired;
    if (this.closed) {
      dest.release(identifier);
      return { result: 'timeout', attempts: 0, ms: performance.now() - started };
    }
    const packet = encodeRequest(code, identifier, request.attributes, request.secret, { messageAuthenticator: request.messageAuthenticator === true });
    const timeoutMs = Math.max(1, request.timeoutMs ?? 1000);
    const retries = Math.max(0, Math.floor(request.retries ?? 2));
    const destination = dest;
    return new Promise<DynamicAuthorizationResult>((resolve) => {
      const pending: Pending = {
        identifier,
        packet,
        authenticator: packet.subarray(4, 20),
        secret: request.secret,
        ackCode,
        nakCode,
        started,
        attempts: 0,
        timer: undefined,
        lastError: undefined,
        resolve,
      };
      destination.slots[identifier] = pending;
      const transmit = (): void => {
        if (destination.slots[identifier] !== pending) return;
        if (pending.attempts > retries) {
          this.finish(destination, pending, { result: 'timeout' });
          return;
        }
        const wait = Math.min(this.maxWaitMs, timeoutMs * 2 ** pending.attempts);
        pending.attempts++;
        // NOTE: a retransmission is the same datagram (same identifier and authenticator), as RFC 5080 2.2.1 asks.
        socket.send(packet, port, address, (err) => {
          if (err) pending.lastError = err.message;
        });
        pending.timer = setTimeout(transmit, wait);
      };
      transmit();
    });
  }

  private finish(dest: Destination, p: Pending, outcome: { result: DynamicAuthorizationResult['result']; errorCause?: number; reply?: RadiusPacket }): void {
    if (dest.slots[p.identifier] !== p) return;
    clearTimeout(p.timer);
    dest.release(p.identifier);
    const result: DynamicAuthorizationResult = {
      ...outcome,
      attempts: p.attempts,
      ms: performance.now() - p.started,
      ...(outcome.result === 'timeout' && p.lastError !== undefined ? { error: p.lastError } : {}),
    };
    p.resolve(result);
  }

  private socket(family: 'udp4' | 'udp6'): Socket {
    let socket = this.sockets.get(family);
    if (socket === undefined) {
      socket = createSocket(family);
      socket.on('message', (msg, rinfo) => this.onReply(msg, rinfo));
      // NOTE: send errors reach the send callback; a socket-level error must not crash the process.
      socket.on('error', () => undefined);
      socket.unref();
      this.sockets.set(family, socket);
    }
    return socket;
  }

  /** A reply counts only if it comes from the destination, matches an outstanding identifier and is authentic. */
  private onReply(msg: Buffer, rinfo: RemoteInfo): void {
    const dest = this.destinations.get(destinationKey(rinfo.address, rinfo.port));
    if (dest === undefined || msg.length < 20) return;
    const p = dest.slots[msg[1]!];
    if (p === undefined || p === RESERVED) return;
    let reply: RadiusPacket;
    try {
      reply = decodePacket(msg);
    } catch (e) {
      if (e instanceof RadiusDecodeError) return;
      throw e;
    }
    if (reply.code !== p.ackCode && reply.code !== p.nakCode) return;
    if (!verifyResponseAuthenticator(reply.raw, p.authenticator, p.secret)) return;
    if (verifyMessageAuthenticator(reply, p.secret, p.authenticator) === false) return;
    const cause = reply.attributes.getUint32(Attr.ErrorCause);
    this.finish(dest, p, {
      result: reply.code === p.ackCode ? 'ack' : 'nak',
      ...(cause !== undefined ? { errorCause: cause } : {}),
      reply,
    });
  }
}

function destinationKey(address: string, port: number): string {
  // NOTE: an IPv4 peer may show up as IPv4-mapped on a dual-stack socket.
  return `${address.startsWith('::ffff:') ? address.slice(7) : address}|${port}`;
}

let shared: DynamicAuthorizationClient | undefined;

/** Sends a Disconnect-Request through a process-wide client (its sockets do not keep the process alive). */
export function sendDisconnect(request: DynamicAuthorizationRequest): Promise<DynamicAuthorizationResult> {
  shared ??= new DynamicAuthorizationClient();
  return shared.sendDisconnect(request);
}

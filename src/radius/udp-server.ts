import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { GatewayCache } from '../engine/gateway-directory.ts';
import type { PolicyBook } from '../engine/policy-book.ts';
import type { CompiledPolicy } from '../modules/policies/policy.ts';
import { Backpressure } from '../engine/group-commit.ts';
import { RETRANSMISSION_WINDOW_MS, type UsageEngine } from '../engine/usage-engine.ts';
import { type AttributeRef, type Gateway, parseAttributeRef } from '../modules/gateways/gateway.ts';
import { accessDecision } from '../modules/usage/access.ts';
import { Attr, attr, Code, type OutgoingAttribute } from './attributes.ts';
import { type DecodedPacket, decodePacket, encodeReply, RadiusDecodeError, verifyMessageAuthenticator, verifyRequestAuthenticator } from './codec.ts';
import { toAccountingInput, toAccessQuery } from './mapping.ts';
import { ReplyCache, type ReplyToken } from './reply-cache.ts';

export interface RadiusServerOptions {
  host: string;
  authPort: number;
  acctPort: number;
}

/**
 * Answers kept for retransmissions (RFC 5080 duplicate detection: same source, identifier and authenticator), for
 * `RETRANSMISSION_WINDOW_MS`, at most this many.
 */
const REPLY_CACHE_MAX = 262_144;

type DropReason = 'unknown_client' | 'bad_authenticator' | 'malformed' | 'unexpected_code' | 'backpressure' | 'commit_failed';

/**
 * The RADIUS edge: UDP sockets for authentication and accounting. It checks who sent a packet and that it is
 * authentic, recognises retransmissions, hands accounting to the usage engine and answers only once that is
 * durable. Bad packets are counted and dropped, never answered.
 */
export class RadiusServer {
  private auth: Socket | undefined;
  private acct: Socket | undefined;
  private readonly replies = new ReplyCache({ capacity: REPLY_CACHE_MAX, windowMs: RETRANSMISSION_WINDOW_MS });
  private readonly attributeRefs = new WeakMap<Gateway, AttributeRef | null>();
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private readonly received: Counter;
  private readonly dropped: Counter;
  private readonly answered: Counter;
  private readonly duplicates: Counter;
  private readonly outcomes: Counter;
  private readonly latency: Histogram;
  // NOTE: the per-packet series, bound once: a labelled `inc` hashes its labels on every call.
  private readonly perPacket: {
    received: Record<'auth' | 'acct', { inc(): void }>;
    latency: Record<'auth' | 'acct', { observe(v: number): void }>;
    recorded: { inc(): void };
    accountingResponse: { inc(): void };
  };

  /** Access-Accept attributes of each policy (directed access), built once per compiled plan. */
  private readonly acceptAttributes = new WeakMap<CompiledPolicy, OutgoingAttribute[]>();

  constructor(
    private readonly gateways: GatewayCache,
    private readonly usage: UsageEngine,
    private readonly log: Logger,
    registry: Registry,
    private readonly options: RadiusServerOptions,
    private readonly policies?: PolicyBook,
  ) {
    const registers = [registry];
    this.received = new Counter({ name: 'meridian_radius_packets_received_total', help: 'RADIUS packets received', labelNames: ['port'], registers });
    this.dropped = new Counter({ name: 'meridian_radius_packets_dropped_total', help: 'RADIUS packets dropped without an answer', labelNames: ['reason'], registers });
    this.answered = new Counter({ name: 'meridian_radius_replies_total', help: 'RADIUS replies sent', labelNames: ['code'], registers });
    this.duplicates = new Counter({ name: 'meridian_radius_duplicates_total', help: 'retransmitted RADIUS requests recognised', registers });
    this.outcomes = new Counter({
      name: 'meridian_radius_accounting_total',
      help: 'Accounting-Requests answered, by outcome (recorded, unknown_sim, no_session_id, gateway_reset)',
      labelNames: ['outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'meridian_radius_reply_seconds',
      help: 'time from a request to its reply (accounting: including the durable commit)',
      labelNames: ['port'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.perPacket = {
      received: { auth: this.received.labels('auth'), acct: this.received.labels('acct') },
      latency: { auth: this.latency.labels('auth'), acct: this.latency.labels('acct') },
      recorded: this.outcomes.labels('recorded'),
      accountingResponse: this.answered.labels(String(Code.AccountingResponse)),
    };
  }

  async start(): Promise<{ authPort: number; acctPort: number }> {
    this.auth = await this.bind(this.options.authPort, (msg, rinfo) => this.onAuth(msg, rinfo));
    this.acct = await this.bind(this.options.acctPort, (msg, rinfo) => this.onAccounting(msg, rinfo));
    return this.ports();
  }

  ports(): { authPort: number; acctPort: number } {
    return { authPort: this.auth?.address().port ?? 0, acctPort: this.acct?.address().port ?? 0 };
  }

  /** Stops reading packets, waits until every accepted one is answered, then closes the sockets. */
  async stop(): Promise<void> {
    const sockets = [this.auth, this.acct].filter((s): s is Socket => s !== undefined);
    // NOTE: the sockets stay open until in-flight packets are answered: their replies still need them.
    for (const s of sockets) s.removeAllListeners('message');
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private bind(port: number, onMessage: (msg: Buffer, rinfo: RemoteInfo) => void): Promise<Socket> {
    const socket = createSocket({ type: this.options.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    socket.on('message', onMessage);
    socket.on('error', (err) => this.log.error({ err, port }, 'RADIUS socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.options.host, () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  }

  /** Finds the gateway, recognises retransmissions and decodes; undefined when the packet is dropped or answered from cache. */
  private admit(msg: Buffer, rinfo: RemoteInfo, socket: Socket, port: 'auth' | 'acct'): { gateway: Gateway; packet: DecodedPacket } | undefined {
    this.perPacket.received[port].inc();
    const gateway = this.gateways.match(rinfo.address);
    if (!gateway) return this.drop('unknown_client');
    if (msg.length < 20) return this.drop('malformed');
    const seen = this.replies.seen(rinfo.address, rinfo.port, msg);
    if (seen !== undefined) {
      this.duplicates.inc();
      if (seen) socket.send(seen, rinfo.port, rinfo.address);
      return undefined;
    }
    let packet: DecodedPacket;
    try {
      packet = decodePacket(msg);
    } catch (e) {
      if (e instanceof RadiusDecodeError) return this.drop('malformed');
      throw e;
    }
    return { gateway, packet };
  }

  private drop(reason: DropReason): undefined {
    this.dropped.inc({ reason });
    return undefined;
  }

  /** Where a gateway reports the destination class, read once per gateway object (a reload brings new ones). */
  private destinationClassAt(gateway: Gateway): AttributeRef | null {
    if (gateway.destinationClassAttribute === null) return null;
    let ref = this.attributeRefs.get(gateway);
    if (ref === undefined) {
      const parsed = parseAttributeRef(gateway.destinationClassAttribute);
      ref = parsed.ok ? parsed.ref : null;
      this.attributeRefs.set(gateway, ref);
    }
    return ref;
  }

  private onAccounting(msg: Buffer, rinfo: RemoteInfo): void {
    const socket = this.acct!;
    const admitted = this.admit(msg, rinfo, socket, 'acct');
    if (!admitted) return;
    const { gateway, packet } = admitted;
    if (packet.code !== Code.AccountingRequest) return void this.drop('unexpected_code');
    if (!verifyRequestAuthenticator(msg, gateway.secret)) return void this.drop('bad_authenticator');
    const started = performance.now();
    const key = this.replies.begin(rinfo.address, rinfo.port, msg);
    this.inFlight++;
    this.usage
      .accounting({ id: gateway.id, accountId: gateway.accountId }, toAccountingInput(packet, this.destinationClassAt(gateway)))
      .then(
        (outcome) => {
          if (outcome === 'recorded') this.perPacket.recorded.inc();
          else {
            this.outcomes.inc({ outcome });
            this.log.debug({ gateway: gateway.id, outcome }, 'accounting answered without usage');
          }
          const reply = encodeReply(packet, Code.AccountingResponse, [], gateway.secret);
          this.reply(socket, rinfo, key, reply, Code.AccountingResponse);
          this.perPacket.latency.acct.observe((performance.now() - started) / 1000);
        },
        (err: unknown) => {
          // NOTE: no answer: the gateway retransmits, and the retransmission is counted once the database is back.
          this.replies.forget(key);
          this.drop(err instanceof Backpressure ? 'backpressure' : 'commit_failed');
        },
      )
      .finally(() => this.settle());
  }

  private onAuth(msg: Buffer, rinfo: RemoteInfo): void {
    const socket = this.auth!;
    const admitted = this.admit(msg, rinfo, socket, 'auth');
    if (!admitted) return;
    const { gateway, packet } = admitted;
    if (packet.code !== Code.AccessRequest) return void this.drop('unexpected_code');
    if (verifyMessageAuthenticator(msg, gateway.secret) === false) return void this.drop('bad_authenticator');
    const started = performance.now();
    const query = toAccessQuery(packet);
    const key = this.replies.begin(rinfo.address, rinfo.port, msg);
    this.inFlight++;
    this.usage.sims
      .resolve(query.imsi, query.msisdn)
      .then(async (sim) => {
        const decision = accessDecision(sim);
        let attributes: OutgoingAttribute[] = [];
        let reason = decision.accept ? null : decision.reason;
        if (sim && decision.accept && this.policies) {
          if (!this.policies.isReady(sim)) await this.policies.prepare(sim);
          const verdict = this.policies.access(sim, query);
          if (verdict.accept) attributes = this.acceptAttributesOf(verdict.policy);
          else reason = verdict.reason;
        }
        const code = reason === null ? Code.AccessAccept : Code.AccessReject;
        if (reason !== null) attributes = [{ type: Attr.ReplyMessage, value: Buffer.from(reason) }];
        this.reply(socket, rinfo, key, encodeReply(packet, code, attributes, gateway.secret), code);
        this.perPacket.latency.auth.observe((performance.now() - started) / 1000);
      })
      .catch((err: unknown) => {
        this.replies.forget(key);
        this.log.error({ err }, 'access request failed');
        this.drop('commit_failed');
      })
      .finally(() => this.settle());
  }

  /**
   * Directed access (定向) in Access-Accept: the whitelist as NAS-Filter-Rule attributes (RFC 4849; rules separated
   * by NUL across the attributes) and the plan's named filter as Filter-Id (RFC 2865).
   */
  private acceptAttributesOf(policy: CompiledPolicy): OutgoingAttribute[] {
    let out = this.acceptAttributes.get(policy);
    if (!out) {
      out = policy.filterRules.map((rule, i) => attr(Attr.NasFilterRule, i < policy.filterRules.length - 1 ? `${rule}\0` : rule));
      if (policy.filterId) out.push(attr(Attr.FilterId, policy.filterId));
      this.acceptAttributes.set(policy, out);
    }
    return out;
  }

  private reply(socket: Socket, rinfo: RemoteInfo, key: ReplyToken, reply: Buffer, code: number): void {
    this.replies.answer(key, reply);
    socket.send(reply, rinfo.port, rinfo.address);
    if (code === Code.AccountingResponse) this.perPacket.accountingResponse.inc();
    else this.answered.inc({ code: String(code) });
  }

  private settle(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) {
      this.idle();
      this.idle = undefined;
    }
  }
}

/**
 * RADIUS accounting load generator: a gateway (PGW/GGSN) fleet speaking real RFC 2866 accounting to one server on
 * this machine, from many UDP sockets (each its own source port, so its own space of 256 identifiers).
 *
 * Workload: SIMs 1..N (IMSI, MSISDN as in bench/support/sims.ts), each in an endless series of data sessions of
 * Start, K Interim-Updates with growing cumulative counters, and Stop. SIMs are visited in a fixed pseudo-random
 * order and each starts its first session at a different round, so after the first few rounds every moment carries
 * the same mix of Starts, Interims and Stops.
 *
 * Open loop: packets leave at the offered rate whatever the server does. Latency runs from the moment a packet was
 * due to leave (so a generator or identifier backlog is not hidden) to its verified Accounting-Response (Response
 * Authenticator checked). Unanswered requests are sent again, byte for byte, after a timeout, as a gateway does;
 * one still unanswered after the last retransmission is lost.
 *
 * As a module: `AccountingLoad.open(target, options)`, then `step(rate, seconds)` or `searchSustainedRate(...)`.
 * As a command:
 *   npx tsx bench/radius-load.ts --port 1813 --secret S [--rate 4000 --seconds 10]
 *   npx tsx bench/radius-load.ts --port 1813 --secret S --search [--rates 2000,4000,8000] [--step-seconds 12]
 *   (--sims 100000 --interims 4 --sockets 64 --timeout-ms 1000 --retries 2 --host 127.0.0.1)
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AcctStatus, Attr, Attr3gpp, attr, attr3gpp, Code, type OutgoingAttribute } from '../src/radius/attributes.ts';
import { encodeRequest, verifyResponseAuthenticator } from '../src/radius/codec.ts';
import { imsiFor, msisdnFor } from './support/sims.ts';

export interface LoadTarget {
  /** A loopback address: the benchmark sends nowhere else. */
  host: string;
  port: number;
  secret: string;
}

export interface LoadOptions {
  /** SIM serials 1..sims; IMSIs from imsiFor(serial). */
  sims: number;
  /** Interim-Updates per session, between Start and Stop. */
  interims: number;
  /** UDP sockets (source ports); each has 256 identifiers, so at most 256 requests in flight. */
  sockets: number;
  /** Retransmit a request unanswered for this long. */
  timeoutMs: number;
  /** Retransmissions before a request counts as lost. */
  retries: number;
}

export const DEFAULT_LOAD_OPTIONS: LoadOptions = { sims: 100_000, interims: 4, sockets: 64, timeoutMs: 1000, retries: 2 };

export interface StepResult {
  /** Offered rate, packets per second, and for how long it was offered. */
  offered: number;
  seconds: number;
  /** Requests the step was to send (offered × seconds). */
  planned: number;
  /** First transmissions made (less than planned only when identifiers ran out until the end). */
  sent: number;
  answered: number;
  /** Not answered after every retransmission, or never sent. */
  lost: number;
  lossPercent: number;
  retransmissions: number;
  /** Replies that matched no request in flight (late answers to a retransmitted request). */
  staleReplies: number;
  /** Replies whose Response Authenticator was wrong. */
  badReplies: number;
  sentPerSecond: number;
  answeredPerSecond: number;
  /** Milliseconds from when a request was due to its verified answer. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** 99th percentile of how late the generator sent first transmissions (its own limit), ms. */
  lagP99: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Times a request could not leave when due because all identifiers were in flight (the server was behind). */
  identifierWaits: number;
  /** Packets of each kind sent for the first time. */
  kinds: { start: number; interim: number; stop: number };
}

/** Whether requests left late with identifiers to spare: the generator itself was short of CPU, not waiting for the server. */
export const generatorBehind = (r: StepResult): boolean => r.identifierWaits === 0 && (r.lagP99 > 20 || r.sentPerSecond < 0.97 * r.offered);

/** Whether a step counts as sustained: nothing lost and p99 under the bound. */
export const sustained = (r: StepResult, maxP99Ms: number): boolean => r.lost === 0 && r.answered === r.planned && r.p99 < maxP99Ms;

const isLoopback = (host: string): boolean => host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Octets per interval of a SIM's session, so that counters differ between SIMs. */
const inStep = (serial: number): number => 20_000 + (serial % 97) * 100;
const outStep = (serial: number): number => 5_000 + (serial % 31) * 50;
const INTERIM_SECONDS = 300;

interface StepState {
  rate: number;
  seconds: number;
  planned: number;
  t0: number;
  /** First transmissions made so far. */
  sent: number;
  endAt: number;
  answered: number;
  lost: number;
  retransmissions: number;
  staleReplies: number;
  badReplies: number;
  latencies: Float64Array;
  lags: Float64Array;
  maxInFlight: number;
  identifierWaits: number;
  lastAnswerAt: number;
  kinds: { start: number; interim: number; stop: number };
  done: (r: StepResult) => void;
}

/** A fleet of gateway sockets sending the accounting workload to one server. */
export class AccountingLoad {
  private readonly sockets: Socket[] = [];
  private readonly slotCount: number;
  // One slot per (socket, identifier): the request in flight there.
  private readonly packets: (Buffer | null)[];
  private readonly due: Float64Array;
  private readonly tries: Uint8Array;
  private readonly generation: Uint32Array;
  private readonly slotSerial: Int32Array;
  private readonly slotSession: Int32Array;
  private readonly slotOctets: Float64Array;
  private readonly free: Uint8Array[];
  private readonly freeCount: Int32Array;
  private nextSocket = 0;
  private inFlight = 0;
  // Retransmission timers as one queue ordered by deadline (every timeout is the same length).
  private timerSlot = new Int32Array(1 << 16);
  private timerGen = new Uint32Array(1 << 16);
  private timerAt = new Float64Array(1 << 16);
  private timerHead = 0;
  private timerTail = 0;
  // The workload position: global slot index (SIM visit) and the permutation of SIMs.
  private cursor = 0;
  private readonly stride: number;
  private readonly phases: number;
  private readonly runTag: string;
  // What the server acknowledged, per SIM: session number and cumulative octets of its newest answered packet.
  private readonly ackSession: Int32Array;
  private readonly ackOctets: Float64Array;
  /** Octets of all sessions as acknowledged by the server (what its database must hold at least). */
  acknowledgedOctets = 0;
  /** Sessions started and acknowledged. */
  acknowledgedSessions = 0;
  socketErrors = 0;
  private step: StepState | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly target: LoadTarget,
    readonly options: LoadOptions,
  ) {
    this.slotCount = options.sockets * 256;
    this.packets = new Array<Buffer | null>(this.slotCount).fill(null);
    this.due = new Float64Array(this.slotCount);
    this.tries = new Uint8Array(this.slotCount);
    this.generation = new Uint32Array(this.slotCount);
    this.slotSerial = new Int32Array(this.slotCount);
    this.slotSession = new Int32Array(this.slotCount);
    this.slotOctets = new Float64Array(this.slotCount);
    this.free = Array.from({ length: options.sockets }, () => Uint8Array.from({ length: 256 }, (_, i) => 255 - i));
    this.freeCount = new Int32Array(options.sockets).fill(256);
    this.phases = options.interims + 2;
    let stride = Math.max(1, Math.floor(options.sims * 0.6180339887));
    while (gcd(stride, options.sims) !== 1) stride++;
    this.stride = stride % options.sims || 1;
    this.runTag = Math.floor(Math.random() * 0xffff)
      .toString(16)
      .padStart(4, '0');
    this.ackSession = new Int32Array(options.sims + 1).fill(-1);
    this.ackOctets = new Float64Array(options.sims + 1);
  }

  static async open(target: LoadTarget, options: Partial<LoadOptions> = {}): Promise<AccountingLoad> {
    if (!isLoopback(target.host)) throw new Error(`the load generator only sends to loopback addresses, not ${target.host}`);
    const o = { ...DEFAULT_LOAD_OPTIONS, ...options };
    if (o.retries > 250) throw new Error('at most 250 retransmissions');
    const load = new AccountingLoad(target, o);
    for (let s = 0; s < o.sockets; s++) {
      const socket = createSocket({ type: target.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
      socket.on('error', () => load.socketErrors++);
      socket.on('message', (msg) => load.onReply(s, msg));
      await new Promise<void>((resolve) => socket.bind(0, target.host === 'localhost' ? '127.0.0.1' : target.host, () => resolve()));
      await new Promise<void>((resolve) => socket.connect(target.port, target.host, () => resolve()));
      load.sockets.push(socket);
    }
    return load;
  }

  /** Offers `rate` requests per second for `seconds`, then waits until every request is answered or lost. */
  run(rate: number, seconds: number): Promise<StepResult> {
    if (this.step) throw new Error('a step is running');
    const planned = Math.round(rate * seconds);
    return new Promise<StepResult>((done) => {
      this.step = {
        rate,
        seconds,
        planned,
        t0: performance.now(),
        sent: 0,
        endAt: 0,
        answered: 0,
        lost: 0,
        retransmissions: 0,
        staleReplies: 0,
        badReplies: 0,
        latencies: new Float64Array(planned),
        lags: new Float64Array(planned),
        maxInFlight: 0,
        identifierWaits: 0,
        lastAnswerAt: 0,
        kinds: { start: 0, interim: 0, stop: 0 },
        done,
      };
      this.tick();
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const st = this.step;
    if (!st) return;
    const now = performance.now();
    this.expire(now);
    const due = Math.min(st.planned, Math.floor(((now - st.t0) * st.rate) / 1000) + 1);
    while (st.sent < due) {
      if (!this.sendNext(st, now)) {
        st.identifierWaits++;
        break;
      }
    }
    if (this.inFlight > st.maxInFlight) st.maxInFlight = this.inFlight;
    if (st.sent === st.planned && st.endAt === 0) st.endAt = now;
    const drainLimit = (this.options.retries + 1) * this.options.timeoutMs + 1000;
    const lastDue = st.t0 + (st.seconds * 1000);
    if ((st.sent === st.planned && this.inFlight === 0) || now > Math.max(lastDue, st.endAt) + drainLimit) {
      this.finish(st);
      return;
    }
    this.timer = setTimeout(this.tick, 1);
  };

  /** Sends the next request of the workload; false when every identifier is in use. */
  private sendNext(st: StepState, now: number): boolean {
    const socketIndex = this.freeSocket();
    if (socketIndex < 0) return false;
    const { sims } = this.options;
    const phases = this.phases;
    // Skip the visits of a SIM before its first Start.
    let serial: number;
    let k: number;
    do {
      const position = this.cursor % sims;
      const visit = Math.floor(this.cursor / sims);
      this.cursor++;
      serial = ((position * this.stride) % sims) + 1;
      k = visit - ((phases - (serial % phases)) % phases);
    } while (k < 0);
    const session = Math.floor(k / phases);
    const phase = k % phases;
    const id = this.free[socketIndex]![--this.freeCount[socketIndex]!]!;
    const slot = socketIndex * 256 + id;
    const octets = phase * (inStep(serial) + outStep(serial));
    const packet = this.encode(id, serial, session, phase);
    const dueAt = st.t0 + (st.sent * 1000) / st.rate;
    st.lags[st.sent] = now - dueAt;
    st.sent++;
    if (phase === 0) st.kinds.start++;
    else if (phase === phases - 1) st.kinds.stop++;
    else st.kinds.interim++;
    this.packets[slot] = packet;
    this.due[slot] = dueAt;
    this.tries[slot] = 0;
    this.slotSerial[slot] = serial;
    this.slotSession[slot] = session;
    this.slotOctets[slot] = octets;
    this.inFlight++;
    this.transmit(slot, now);
    return true;
  }

  private freeSocket(): number {
    const n = this.options.sockets;
    for (let i = 0; i < n; i++) {
      const s = (this.nextSocket + i) % n;
      if (this.freeCount[s]! > 0) {
        this.nextSocket = (s + 1) % n;
        return s;
      }
    }
    return -1;
  }

  private transmit(slot: number, now: number): void {
    this.sockets[slot >> 8]!.send(this.packets[slot]!);
    this.pushTimer(slot, now + this.options.timeoutMs);
  }

  /** The Accounting-Request of `serial`'s session `session` at `phase` (0 Start, 1..K Interim, K+1 Stop). */
  private encode(id: number, serial: number, session: number, phase: number): Buffer {
    const imsi = imsiFor(serial);
    const status = phase === 0 ? AcctStatus.Start : phase === this.phases - 1 ? AcctStatus.Stop : AcctStatus.InterimUpdate;
    const attributes: OutgoingAttribute[] = [
      attr(Attr.AcctStatusType, status),
      attr(Attr.UserName, imsi),
      attr(Attr.AcctSessionId, `${this.runTag}${serial.toString(16).padStart(7, '0')}${session.toString(16).padStart(5, '0')}`),
      attr(Attr.NasIpAddress, Buffer.of(127, 0, 0, 1)),
      attr(Attr.NasPortType, 18),
      attr(Attr.ServiceType, 2),
      attr(Attr.FramedProtocol, 7),
      attr(Attr.FramedIpAddress, Buffer.of(10, (serial >> 16) & 255, (serial >> 8) & 255, serial & 255)),
      attr(Attr.CalledStationId, 'iot.meridian'),
      attr(Attr.CallingStationId, msisdnFor(serial)),
      attr(Attr.EventTimestamp, Math.floor(Date.now() / 1000)),
      attr3gpp(Attr3gpp.Imsi, imsi),
      attr3gpp(Attr3gpp.RatType, Buffer.of(6)),
      attr3gpp(Attr3gpp.SgsnMccMnc, '46000'),
      attr3gpp(Attr3gpp.ChargingId, serial * 16 + (session & 15)),
    ];
    if (phase > 0) {
      attributes.push(
        attr(Attr.AcctInputOctets, phase * inStep(serial)),
        attr(Attr.AcctOutputOctets, phase * outStep(serial)),
        attr(Attr.AcctInputGigawords, 0),
        attr(Attr.AcctOutputGigawords, 0),
        attr(Attr.AcctSessionTime, phase * INTERIM_SECONDS),
      );
    }
    if (status === AcctStatus.Stop) attributes.push(attr(Attr.AcctTerminateCause, 4));
    return encodeRequest(Code.AccountingRequest, id, attributes, this.target.secret);
  }

  private onReply(socketIndex: number, msg: Buffer): void {
    const st = this.step;
    if (msg.length < 20 || msg[0] !== Code.AccountingResponse) {
      if (st) st.badReplies++;
      return;
    }
    const slot = socketIndex * 256 + msg[1]!;
    const packet = this.packets[slot];
    if (!st || !packet) {
      if (st) st.staleReplies++;
      return;
    }
    if (!verifyResponseAuthenticator(msg, packet.subarray(4, 20), this.target.secret)) {
      // NOTE: most likely a late answer to the request that used this identifier before.
      st.staleReplies++;
      return;
    }
    const now = performance.now();
    st.latencies[st.answered++] = now - this.due[slot]!;
    st.lastAnswerAt = now;
    this.acknowledge(this.slotSerial[slot]!, this.slotSession[slot]!, this.slotOctets[slot]!);
    this.release(slot);
  }

  private acknowledge(serial: number, session: number, octets: number): void {
    if (session > this.ackSession[serial]!) {
      this.ackSession[serial] = session;
      this.ackOctets[serial] = octets;
      this.acknowledgedOctets += octets;
      this.acknowledgedSessions++;
    } else if (session === this.ackSession[serial] && octets > this.ackOctets[serial]!) {
      this.acknowledgedOctets += octets - this.ackOctets[serial]!;
      this.ackOctets[serial] = octets;
    }
  }

  private release(slot: number): void {
    this.packets[slot] = null;
    this.generation[slot]!++;
    const s = slot >> 8;
    this.free[s]![this.freeCount[s]!++] = slot & 255;
    this.inFlight--;
  }

  private pushTimer(slot: number, at: number): void {
    const cap = this.timerSlot.length;
    if (this.timerTail - this.timerHead === cap) this.growTimers();
    const i = this.timerTail++ & (this.timerSlot.length - 1);
    this.timerSlot[i] = slot;
    this.timerGen[i] = this.generation[slot]!;
    this.timerAt[i] = at;
  }

  private growTimers(): void {
    const cap = this.timerSlot.length;
    const slot = new Int32Array(cap * 2);
    const gen = new Uint32Array(cap * 2);
    const at = new Float64Array(cap * 2);
    for (let k = 0; k < cap; k++) {
      const i = (this.timerHead + k) & (cap - 1);
      slot[k] = this.timerSlot[i]!;
      gen[k] = this.timerGen[i]!;
      at[k] = this.timerAt[i]!;
    }
    this.timerSlot = slot;
    this.timerGen = gen;
    this.timerAt = at;
    this.timerHead = 0;
    this.timerTail = cap;
  }

  /** Retransmits requests whose timer ran out, or gives them up as lost after the last retry. */
  private expire(now: number): void {
    const st = this.step!;
    const mask = this.timerSlot.length - 1;
    while (this.timerHead < this.timerTail) {
      const i = this.timerHead & mask;
      if (this.timerAt[i]! > now) break;
      this.timerHead++;
      const slot = this.timerSlot[i]!;
      if (this.timerGen[i] !== this.generation[slot] || !this.packets[slot]) continue;
      if (this.tries[slot]! < this.options.retries) {
        this.tries[slot]!++;
        st.retransmissions++;
        this.transmit(slot, now);
      } else {
        st.lost++;
        this.release(slot);
      }
    }
  }

  private finish(st: StepState): void {
    // Whatever is still in flight or was never sent is lost.
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.packets[slot]) {
        st.lost++;
        this.release(slot);
      }
    }
    st.lost += st.planned - st.sent;
    this.timerHead = this.timerTail;
    this.step = undefined;
    const latencies = st.latencies.subarray(0, st.answered).sort();
    const lags = st.lags.subarray(0, st.sent).sort();
    const pct = (a: Float64Array, p: number): number => (a.length ? a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)]! : Number.NaN);
    const sendWindow = Math.max(1, (st.endAt || performance.now()) - st.t0) / 1000;
    const answerWindow = Math.max(1, (st.lastAnswerAt || performance.now()) - st.t0) / 1000;
    st.done({
      offered: st.rate,
      seconds: st.seconds,
      planned: st.planned,
      sent: st.sent,
      answered: st.answered,
      lost: st.lost,
      lossPercent: (100 * st.lost) / Math.max(1, st.planned),
      retransmissions: st.retransmissions,
      staleReplies: st.staleReplies,
      badReplies: st.badReplies,
      sentPerSecond: st.sent / Math.max(sendWindow, st.seconds),
      answeredPerSecond: st.answered / Math.max(answerWindow, st.seconds),
      p50: pct(latencies, 50),
      p95: pct(latencies, 95),
      p99: pct(latencies, 99),
      max: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
      lagP99: pct(lags, 99),
      maxInFlight: st.maxInFlight,
      identifierWaits: st.identifierWaits,
      kinds: st.kinds,
    });
  }
}

export interface SearchOptions {
  rates: readonly number[];
  stepSeconds: number;
  /** Pause between steps, for the server to settle. */
  pauseSeconds: number;
  maxP99Ms: number;
  onStep?: (r: StepResult, ok: boolean) => void;
  /** Asked after a step that was not sustained: true runs that rate once more (e.g. when other work disturbed it). */
  retry?: (r: StepResult) => Promise<boolean>;
}

export interface SearchResult {
  steps: StepResult[];
  /** The highest offered rate sustained (nothing lost, p99 under the bound), if any. */
  best: StepResult | undefined;
  /** Why the search ended. */
  ended: string;
}

/** Steps the offered rate up until a step is not sustained; the last sustained step is the result. */
export async function searchSustainedRate(load: AccountingLoad, o: SearchOptions): Promise<SearchResult> {
  const steps: StepResult[] = [];
  let best: StepResult | undefined;
  for (const rate of o.rates) {
    let r = await load.run(rate, o.stepSeconds);
    steps.push(r);
    let ok = sustained(r, o.maxP99Ms);
    o.onStep?.(r, ok);
    if (!ok && o.retry && (await o.retry(r))) {
      r = await load.run(rate, o.stepSeconds);
      steps.push(r);
      ok = sustained(r, o.maxP99Ms);
      o.onStep?.(r, ok);
    }
    if (!ok) {
      const why = r.lost > 0 ? `${r.lossPercent.toFixed(2)} % lost` : `p99 ${r.p99.toFixed(1)} ms`;
      const generator = generatorBehind(r) ? ` (requests also left late, send lag p99 ${r.lagP99.toFixed(0)} ms: the generator did not get the CPU in time)` : '';
      return { steps, best, ended: `${rate.toLocaleString('en-US')}/s not sustained: ${why}${generator}` };
    }
    best = r;
    await new Promise((resolve) => setTimeout(resolve, o.pauseSeconds * 1000));
  }
  return { steps, best, ended: 'every offered rate was sustained (raise BENCH_RATES)' };
}

/** One line describing a step. */
export function describeStep(r: StepResult): string {
  const f = (n: number) => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  return (
    `offered ${int(r.offered).padStart(6)}/s: answered ${int(r.answeredPerSecond).padStart(6)}/s, lost ${r.lossPercent.toFixed(2).padStart(5)} % ` +
    `(${int(r.lost)}), p50 ${f(r.p50)} ms, p95 ${f(r.p95)} ms, p99 ${f(r.p99)} ms, max ${f(r.max)} ms; ` +
    `retransmitted ${int(r.retransmissions)}, in flight max ${int(r.maxInFlight)}${r.identifierWaits ? ' (identifiers ran out)' : ''}, send lag p99 ${f(r.lagP99)} ms`
  );
}

/** Parses "2000,4k,8000" into rates. */
export function parseRates(text: string): number[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)(k?)\s*$/i.exec(part);
    const n = m ? Number(m[1]) * (m[2] ? 1000 : 1) : Number.NaN;
    if (!Number.isInteger(n) || n <= 0) throw new Error(`not a rate: "${part}"`);
    return n;
  });
}

export const DEFAULT_RATES = [2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000, 16_000, 20_000, 25_000, 30_000, 40_000, 50_000];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      secret: { type: 'string' },
      sims: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.sims) },
      interims: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.interims) },
      sockets: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.sockets) },
      'timeout-ms': { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.timeoutMs) },
      retries: { type: 'string', default: String(DEFAULT_LOAD_OPTIONS.retries) },
      rate: { type: 'string', default: '2000' },
      seconds: { type: 'string', default: '10' },
      search: { type: 'boolean', default: false },
      rates: { type: 'string', default: DEFAULT_RATES.join(',') },
      'step-seconds': { type: 'string', default: '12' },
      'max-p99-ms': { type: 'string', default: '100' },
    },
  });
  if (!values.port || !values.secret) {
    process.stderr.write('usage: npx tsx bench/radius-load.ts --port PORT --secret SECRET [--rate R --seconds S | --search [--rates a,b,c]]\n');
    process.exit(2);
  }
  const load = await AccountingLoad.open(
    { host: values.host, port: Number(values.port), secret: values.secret },
    {
      sims: Number(values.sims),
      interims: Number(values.interims),
      sockets: Number(values.sockets),
      timeoutMs: Number(values['timeout-ms']),
      retries: Number(values.retries),
    },
  );
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    if (values.search) {
      const result = await searchSustainedRate(load, {
        rates: parseRates(values.rates),
        stepSeconds: Number(values['step-seconds']),
        pauseSeconds: 2,
        maxP99Ms: Number(values['max-p99-ms']),
        onStep: (r, ok) => out(`${ok ? 'ok  ' : 'FAIL'} ${describeStep(r)}`),
      });
      out(`highest sustained rate: ${result.best ? `${result.best.offered.toLocaleString('en-US')}/s` : 'none'} (${result.ended})`);
    } else {
      out(describeStep(await load.run(Number(values.rate), Number(values.seconds))));
    }
    out(`acknowledged: ${load.acknowledgedSessions.toLocaleString('en-US')} sessions, ${load.acknowledgedOctets.toLocaleString('en-US')} octets`);
  } finally {
    await load.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

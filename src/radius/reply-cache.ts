/**
 * Duplicate detection for RADIUS requests (RFC 5080 section 2.2.2): a request is the same as an earlier one when it
 * comes from the same address and port with the same identifier and Request Authenticator. Each request seen is
 * kept as pending until answered, then with its answer, for `windowMs` or until `capacity` newer requests pushed it
 * out, whichever comes first.
 *
 * Entries live in typed arrays (a ring in arrival order, chained into hash buckets), not in heap objects: at tens of
 * thousands of requests a second the cache holds hundreds of thousands of entries, and objects for them would be
 * promoted, die in the old generation and make every major garbage collection mark them.
 */

const PENDING = 1;
const ANSWERED = 2;
/** Answers of this length (an Accounting-Response has no attributes) are kept in the slab; longer ones in a map. */
const SLAB_REPLY = 20;
const NONE = -1;

export interface ReplyCacheOptions {
  /** Most requests remembered (rounded up to a power of two). */
  capacity: number;
  /** How long a request is remembered, ms. */
  windowMs: number;
  now?: () => number;
}

/** A request's place in the cache; stale once the place is reused, so a late answer cannot land on another request. */
export type ReplyToken = number;

const bucketOf = (address: number, portId: number, auth0: number, auth3: number, mask: number): number => {
  let h = Math.imul(address, 0x9e3779b1) ^ portId;
  h = Math.imul(h ^ auth0, 0x85ebca6b);
  h = Math.imul(h ^ auth3, 0xc2b2ae35);
  return (h ^ (h >>> 15)) & mask;
};

export class ReplyCache {
  private readonly size: number;
  private readonly mask: number;
  private readonly bucketMask: number;
  private readonly buckets: Int32Array;
  private readonly next: Int32Array;
  private readonly address: Int32Array;
  /** Port in the low 16 bits, identifier above. */
  private readonly portId: Int32Array;
  /** The 16-byte Request Authenticator as four 32-bit words. */
  private readonly auth: Int32Array;
  private readonly at: Float64Array;
  private readonly state: Uint8Array;
  private readonly generation: Uint32Array;
  private readonly slab: Buffer;
  private readonly longReplies = new Map<number, Buffer>();
  /** Source addresses as small numbers; numbers are never reused, so a cleared table cannot make two addresses equal. */
  private addressIds = new Map<string, number>();
  private nextAddressId = 1;
  private cursor = 0;
  private readonly now: () => number;

  constructor(private readonly options: ReplyCacheOptions) {
    let size = 1;
    while (size < options.capacity) size *= 2;
    this.size = size;
    this.mask = size - 1;
    this.bucketMask = size * 2 - 1;
    this.buckets = new Int32Array(size * 2).fill(NONE);
    this.next = new Int32Array(size).fill(NONE);
    this.address = new Int32Array(size);
    this.portId = new Int32Array(size);
    this.auth = new Int32Array(size * 4);
    this.at = new Float64Array(size);
    this.state = new Uint8Array(size);
    this.generation = new Uint32Array(size);
    this.slab = Buffer.alloc(size * SLAB_REPLY);
    this.now = options.now ?? Date.now;
  }

  /** Requests remembered now (pending or answered, within the window or not yet pushed out). */
  get entries(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.state[i] !== 0) n++;
    return n;
  }

  /**
   * Looks `msg` (a request of at least 20 bytes) up: undefined when it was not seen within the window; null when it
   * was and is not answered yet (drop it); its answer otherwise (send it again).
   */
  seen(address: string, port: number, msg: Buffer): Buffer | null | undefined {
    const slot = this.find(address, port, msg);
    if (slot === NONE) return undefined;
    if (this.state[slot] === PENDING) return null;
    const long = this.longReplies.get(slot);
    // NOTE: a copy: the slab place may be reused while the socket still sends from it.
    return long ?? Buffer.from(this.slab.subarray(slot * SLAB_REPLY, (slot + 1) * SLAB_REPLY));
  }

  /** Remembers `msg` as pending; answer or forget it through the token. */
  begin(address: string, port: number, msg: Buffer): ReplyToken {
    const slot = this.cursor;
    this.cursor = (this.cursor + 1) & this.mask;
    if (this.state[slot] !== 0) this.release(slot);
    const a = this.addressId(address);
    const pi = port | (msg[1]! << 16);
    this.address[slot] = a;
    this.portId[slot] = pi;
    const w = slot * 4;
    for (let k = 0; k < 4; k++) this.auth[w + k] = msg.readInt32LE(4 + 4 * k);
    this.at[slot] = this.now();
    this.state[slot] = PENDING;
    const b = bucketOf(a, pi, this.auth[w]!, this.auth[w + 3]!, this.bucketMask);
    this.next[slot] = this.buckets[b]!;
    this.buckets[b] = slot;
    return this.generation[slot]! * this.size + slot;
  }

  /** Keeps the answer of a pending request; false when the request has been pushed out meanwhile. */
  answer(token: ReplyToken, reply: Buffer): boolean {
    const slot = this.live(token);
    if (slot === NONE) return false;
    this.state[slot] = ANSWERED;
    if (reply.length === SLAB_REPLY) reply.copy(this.slab, slot * SLAB_REPLY);
    else this.longReplies.set(slot, reply);
    return true;
  }

  /** Forgets a pending request (it was not answered; its retransmission is to be handled as new). */
  forget(token: ReplyToken): void {
    const slot = this.live(token);
    if (slot !== NONE) this.release(slot);
  }

  private live(token: ReplyToken): number {
    const slot = token & this.mask;
    return this.state[slot] !== 0 && this.generation[slot]! * this.size + slot === token ? slot : NONE;
  }

  private find(address: string, port: number, msg: Buffer): number {
    const a = this.addressIds.get(address);
    if (a === undefined) return NONE;
    const pi = port | (msg[1]! << 16);
    const w0 = msg.readInt32LE(4);
    const w1 = msg.readInt32LE(8);
    const w2 = msg.readInt32LE(12);
    const w3 = msg.readInt32LE(16);
    const oldest = this.now() - this.options.windowMs;
    for (let slot = this.buckets[bucketOf(a, pi, w0, w3, this.bucketMask)]!; slot !== NONE; slot = this.next[slot]!) {
      const w = slot * 4;
      if (
        this.address[slot] === a &&
        this.portId[slot] === pi &&
        this.auth[w] === w0 &&
        this.auth[w + 1] === w1 &&
        this.auth[w + 2] === w2 &&
        this.auth[w + 3] === w3
      ) {
        return this.at[slot]! >= oldest ? slot : NONE;
      }
    }
    return NONE;
  }

  /** Unlinks a place from its bucket and frees it. */
  private release(slot: number): void {
    const w = slot * 4;
    const b = bucketOf(this.address[slot]!, this.portId[slot]!, this.auth[w]!, this.auth[w + 3]!, this.bucketMask);
    if (this.buckets[b] === slot) this.buckets[b] = this.next[slot]!;
    else {
      let p = this.buckets[b]!;
      while (p !== NONE && this.next[p] !== slot) p = this.next[p]!;
      if (p !== NONE) this.next[p] = this.next[slot]!;
    }
    this.next[slot] = NONE;
    this.state[slot] = 0;
    this.generation[slot] = (this.generation[slot]! + 1) >>> 0;
    this.longReplies.delete(slot);
  }

  private addressId(address: string): number {
    let id = this.addressIds.get(address);
    if (id === undefined) {
      // NOTE: a bound on distinct sources. Entries keep their old numbers, which no new address gets; a retransmission
      // from before the reset is then handled as new, which the usage engine's cumulative counters make harmless.
      if (this.addressIds.size >= 65_536) this.addressIds = new Map();
      id = this.nextAddressId++ | 0;
      this.addressIds.set(address, id);
    }
    return id;
  }
}

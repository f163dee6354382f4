/**
 * One string object per value for values that many long-lived records share (an account id, an APN, a gateway
 * address): with every SIM and session in memory, a copy each is hundreds of thousands of heap objects that every
 * major garbage collection marks, and a new copy with each session is garbage in the old generation.
 */
export class Interned {
  private readonly values = new Map<string, string>();

  /** `limit`: how many values it keeps at most; beyond it (pathological data) values are returned as they come. */
  constructor(private readonly limit = 100_000) {}

  of<T extends string | null>(s: T): T {
    if (s === null) return s;
    const known = this.values.get(s);
    if (known !== undefined) return known as T;
    if (this.values.size < this.limit) this.values.set(s, s);
    return s;
  }
}

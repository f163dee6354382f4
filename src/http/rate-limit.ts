/** Token buckets per key (an API key, a session, a client address): `take` says whether a request may pass. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Returns 0 when allowed, else the seconds to wait before the next token. */
  take(key: string, nowMs = Date.now()): number {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    if (this.buckets.size > 100_000) this.buckets.clear();
    return Math.ceil((1 - b.tokens) / this.perSecond);
  }
}

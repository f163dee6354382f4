import type { Clock } from '../../shared/clock.ts';

/** Counts failed logins per key (e-mail, client address); a key with too many recent failures is locked for a while. */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; firstAt: number; lockedUntil: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly lockMs: number,
  ) {}

  /** Milliseconds until the first of these keys is unlocked; 0 when none is locked. */
  blockedFor(keys: string[]): number {
    const now = this.clock.now().getTime();
    return Math.max(0, ...keys.map((k) => (this.failures.get(k)?.lockedUntil ?? 0) - now));
  }

  fail(keys: string[]): void {
    const now = this.clock.now().getTime();
    for (const key of keys) {
      const entry = this.failures.get(key);
      const current = entry && now - entry.firstAt < this.lockMs ? entry : { count: 0, firstAt: now, lockedUntil: 0 };
      current.count += 1;
      if (current.count >= this.maxFailures) current.lockedUntil = now + this.lockMs;
      this.failures.set(key, current);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private prune(now: number): void {
    for (const [key, e] of this.failures) if (now - e.firstAt > this.lockMs && e.lockedUntil < now) this.failures.delete(key);
  }
}

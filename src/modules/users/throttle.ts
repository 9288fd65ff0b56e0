import type { Clock } from '../../platform/clock.ts';

/** Password sign-in: after 5 failures for one key within 15 minutes, 429 for 15 minutes. */
export const PASSWORD_MAX_FAILURES = 5;
export const PASSWORD_WINDOW_MS = 15 * 60 * 1000;
export const PASSWORD_BLOCK_MS = 15 * 60 * 1000;
const MAX_KEYS = 100_000;

/**
 * Failed sign-ins by key (`address:<email>` and `client:<ip>`), in this process: the failures of
 * the last window are kept; the failure that reaches the limit blocks the key for the block time.
 * In memory: with N processes behind a balancer, a key gets up to N times the tries (README).
 * Bounded: expired keys are swept when full, everything cleared if still full.
 */
export class FailureThrottle {
  private readonly keys = new Map<string, { failures: number[]; blockedUntil: number }>();

  constructor(
    private readonly clock: Clock,
    readonly maxFailures = PASSWORD_MAX_FAILURES,
    readonly windowMs = PASSWORD_WINDOW_MS,
    readonly blockMs = PASSWORD_BLOCK_MS,
  ) {}

  /** Milliseconds until any of `keys` may try again, or 0. */
  retryAfterMs(keys: string[]): number {
    const now = this.clock.now().getTime();
    return Math.max(0, ...keys.map((k) => (this.keys.get(k)?.blockedUntil ?? 0) - now));
  }

  fail(keys: string[]): void {
    const now = this.clock.now().getTime();
    if (this.keys.size >= MAX_KEYS) this.sweep(now);
    for (const key of keys) {
      const entry = this.keys.get(key) ?? { failures: [], blockedUntil: 0 };
      entry.failures = entry.failures.filter((at) => at > now - this.windowMs);
      entry.failures.push(now);
      if (entry.failures.length >= this.maxFailures) {
        entry.blockedUntil = now + this.blockMs;
        entry.failures = [];
      }
      this.keys.set(key, entry);
    }
  }

  /** A success forgets the address's failures (not the client's: one right guess must not reset a spray). */
  succeed(key: string): void {
    const entry = this.keys.get(key);
    if (entry && entry.blockedUntil <= this.clock.now().getTime()) this.keys.delete(key);
  }

  private sweep(now: number) {
    for (const [key, e] of this.keys)
      if (e.blockedUntil <= now && e.failures.every((at) => at <= now - this.windowMs)) this.keys.delete(key);
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
  }
}

/**
 * MAIL_RATE_PER_SECOND: the sender starts one mail every 1/N s at most, whatever its concurrency and
 * pooling (nodemailer's own rateLimit counts fixed windows, which lets 2N through across a window
 * edge, and works only on pooled transports). Spacing, not bursts: in any one-second window at
 * most N mails start. Real time (performance.now), not the domain clock: this paces a network.
 */
export interface RateLimiter {
  /** Resolves when the next mail may start. */
  take(): Promise<void>;
}

export function rateLimiter(perSecond: number | undefined, now: () => number = () => performance.now()): RateLimiter {
  if (!perSecond || perSecond <= 0) return { take: async () => undefined };
  const interval = 1000 / perSecond;
  let nextAt = -Infinity;
  return {
    async take() {
      const t = now();
      const at = Math.max(t, nextAt);
      nextAt = at + interval;
      if (at > t) await new Promise((resolve) => setTimeout(resolve, at - t));
    },
  };
}

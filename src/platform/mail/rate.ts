/**
 * MAIL_RATE_PER_SECOND, held where it matters: at the receiving server. A mail may start only
 * while fewer than N mails are in flight or finished within the last second; a mail counts from
 * its start until one second after the server answered it. So in any one-second window the server
 * receives at most N mails, however long connections take to open (a limit on starts alone lets
 * mails that waited on a slow connection arrive bunched with the next ones; nodemailer's own
 * rateLimit counts fixed windows, and works only on pooled transports). The price: with a slow
 * server the pace stays under N. Real time (performance.now), not the domain clock: this paces a
 * network.
 */
export interface RateLimiter {
  /** Resolves when the next mail may start, with the function to call once the server answered. */
  acquire(): Promise<() => void>;
}

const unlimited: RateLimiter = { acquire: async () => () => undefined };

export function rateLimiter(perSecond: number | undefined, now: () => number = () => performance.now()): RateLimiter {
  if (!perSecond || perSecond <= 0) return unlimited;
  const finished: number[] = []; // answer times within the last second, oldest first
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function pump(): void {
    const t = now();
    while (finished.length > 0 && finished[0]! <= t - 1000) finished.shift();
    while (waiting.length > 0 && inFlight + finished.length < perSecond!) {
      inFlight++;
      waiting.shift()!();
    }
    // Wake up when the oldest answer leaves the window (a release wakes us up earlier).
    if (waiting.length > 0 && timer === undefined && finished.length > 0) {
      timer = setTimeout(
        () => {
          timer = undefined;
          pump();
        },
        Math.max(1, finished[0]! + 1000 - t + 1),
      );
    }
  }

  return {
    acquire() {
      return new Promise((resolve) => {
        waiting.push(() => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            inFlight--;
            finished.push(now());
            pump();
          });
        });
        pump();
      });
    },
  };
}

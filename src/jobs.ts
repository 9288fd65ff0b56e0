import type { Services } from './app.ts';

export interface JobsConfig {
  poolCheckIntervalMs: number;
  mailSendIntervalMs: number;
  conductorPollIntervalMs: number;
  conductorBatchSize: number;
}

export interface JobLog {
  error(obj: object, msg: string): void;
}

/**
 * The background work of `serve` (unless SERVE_WORKERS=false) and `worker`. Every job is safe to
 * run in several processes at once: each step claims or flips its rows in the database. A job that
 * is still running when its next tick comes skips that tick (a slow SMTP server never piles up
 * senders, and never holds up the pool check).
 */
export function startBackgroundJobs(services: Services, config: JobsConfig, log: JobLog): () => Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    if (ms <= 0) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const run = job()
        .catch((err) => log.error({ err }, `${name} failed`))
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    }, ms);
    timers.push(timer);
  };
  // Codes expire or enter the cutoff without any assignment: look at watched pools on a schedule.
  every(config.poolCheckIntervalMs, 'pool check', () => services.assignments.checkAllPools());
  // Conversation runs that are due, batch after batch until none is left.
  every(config.conductorPollIntervalMs, 'conductor', () => services.engine.runDue(config.conductorBatchSize));
  // With SMTP, deliver what is due (new mail, and retries whose backoff has passed).
  if (services.outbox.transportKind === 'smtp') every(config.mailSendIntervalMs, 'mail sender', () => services.outbox.deliverDue());
  return async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all(running);
  };
}

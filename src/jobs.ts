import type { Services } from './app.ts';
import { backoffDelay, isConnectionLoss } from './platform/db/errors.ts';

export interface JobsConfig {
  poolCheckIntervalMs: number;
  mailSendIntervalMs: number;
  conductorPollIntervalMs: number;
  conductorBatchSize: number;
  /** Outgoing webhooks: deliver what is due (0: never, in this process). */
  webhookSendIntervalMs?: number;
  /** Expiry reminders: record coupon_expiring events that are due. */
  reminderIntervalMs?: number;
  /** Audit retention (AUDIT_RETENTION_DAYS): how often old entries are pruned; 0 or omitted: never. */
  auditPruneIntervalMs?: number;
}

export interface JobLog {
  error(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** Longest wait between two tries while the database is away. */
const MAX_BACKOFF_MS = 5_000;

/**
 * The background work of `serve` (unless SERVE_WORKERS=false) and `worker`. Every job is safe to
 * run in several processes at once, and to run again whole after a failure: each step claims or
 * flips its rows in the database, in transactions that commit all or nothing (a conductor batch,
 * a mail claim), keyed so that a redo never gives a second code or a second mail. A job runs again
 * `ms` after its last run ended, so a slow one never piles up. When the database is away (a
 * restart, a network cut) the job backs off (up to 5 s between tries) and resumes by itself.
 */
export function startBackgroundJobs(services: Services, config: JobsConfig, log: JobLog): () => Promise<void> {
  const stops: (() => void)[] = [];
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    if (ms <= 0) return;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let losses = 0;
    const schedule = (delay: number) => {
      if (!stopped) timer = setTimeout(tick, delay);
    };
    const tick = () => {
      const run: Promise<void> = job()
        .then(
          () => {
            if (losses > 0) log.info?.({ job: name, tries: losses }, `${name}: database back, resuming`);
            losses = 0;
            return ms;
          },
          (err: unknown) => {
            if (!isConnectionLoss(err)) {
              log.error({ err }, `${name} failed`);
              return ms;
            }
            losses++;
            const delay = backoffDelay(losses, Math.max(ms, 250), MAX_BACKOFF_MS);
            // One line when it starts, then one now and then: an outage must not flood the log.
            if (losses === 1 || losses % 20 === 0)
              log.warn?.({ job: name, tries: losses, reason: (err as Error).message }, `${name}: database unavailable, retrying`);
            return delay;
          },
        )
        .then((delay) => {
          running.delete(run);
          schedule(delay);
        });
      running.add(run);
    };
    schedule(ms);
    stops.push(() => {
      stopped = true;
      clearTimeout(timer);
    });
  };
  // Codes expire or enter the cutoff without any assignment: look at watched pools on a schedule.
  every(config.poolCheckIntervalMs, 'pool check', () => services.assignments.checkAllPools());
  // Each pool's day, recorded once after it ended in the account's zone (any process may write it first).
  every(config.poolCheckIntervalMs, 'daily history', () => services.reports.recordDailyHistory());
  // Conversation runs that are due, batch after batch until none is left.
  every(config.conductorPollIntervalMs, 'conductor', () => services.engine.runDue(config.conductorBatchSize));
  // Audit entries older than AUDIT_RETENTION_DAYS go (in batches; any process may do it).
  every(config.auditPruneIntervalMs ?? 0, 'audit retention', () => services.audit.prune());
  // With SMTP, deliver what is due (new mail, and retries whose backoff has passed).
  if (services.outbox.transportKind === 'smtp') every(config.mailSendIntervalMs, 'mail sender', () => services.outbox.deliverDue());
  // Outgoing webhooks: due events, a POST per webhook batch (claims skip other processes' rows).
  every(config.webhookSendIntervalMs ?? 0, 'webhook sender', () => services.webhooks.deliverDue());
  // Codes about to expire unredeemed: one coupon_expiring event per assignment, once across processes.
  every(config.reminderIntervalMs ?? 0, 'expiry reminders', () => services.reminders.runDue());
  return async () => {
    for (const stop of stops) stop();
    await Promise.all(running);
  };
}

import type { Services } from './app.ts';

export interface JobsConfig {
  poolCheckIntervalMs: number;
}

export interface JobLog {
  error(obj: object, msg: string): void;
}

/**
 * The background work of `serve` (unless SERVE_WORKERS=false) and `worker`. Every job is safe to
 * run in several processes at once: each step claims or flips its rows in the database.
 */
export function startBackgroundJobs(services: Services, config: JobsConfig, log: JobLog): () => Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<unknown> = Promise.resolve();
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    if (ms <= 0) return;
    const timer = setInterval(() => {
      running = running.then(job).catch((err) => log.error({ err }, `${name} failed`));
    }, ms);
    timers.push(timer);
  };
  // Codes expire or enter the cutoff without any assignment: look at watched pools on a schedule.
  every(config.poolCheckIntervalMs, 'pool check', () => services.assignments.checkAllPools());
  return async () => {
    for (const t of timers) clearInterval(t);
    await running;
  };
}

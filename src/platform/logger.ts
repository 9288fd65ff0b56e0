import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger of a process: `serve` (Fastify logs through it too), `worker` and the CLI. */
export function createLogger(config: { LOG_LEVEL: string }, options: { stream?: 'stdout' | 'stderr' } = {}): Logger {
  // The CLI prints its answers on stdout; its log lines go to stderr so a pipe gets only the answer.
  return pino({ level: config.LOG_LEVEL }, pino.destination({ fd: options.stream === 'stderr' ? 2 : 1, sync: true }));
}

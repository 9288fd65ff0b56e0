import { SQLSTATE, SQLSTATE_CLASS } from './sqlstate.ts';

/** Both drivers surface PostgreSQL's SQLSTATE as `code` and the constraint's name. */
interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgError;
  if (e?.code !== SQLSTATE.uniqueViolation) return false;
  // PGlite does not always fill `constraint`; its message names it.
  return !constraint || e.constraint === constraint || Boolean(e.message?.includes(`"${constraint}"`));
}

/** Socket errors of a server that went away or is not there (yet). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01–57P03 (the
 * server shuts down, crashed, or is starting up) and 53300 (too many connections, while it
 * restarts).
 */
const CONNECTION_STATES = new Set<string>([
  SQLSTATE.adminShutdown,
  SQLSTATE.crashShutdown,
  SQLSTATE.cannotConnectNow,
  SQLSTATE.tooManyConnections,
]);
const isConnectionState = (code: string) => code.startsWith(SQLSTATE_CLASS.connection) || CONNECTION_STATES.has(code);

/** What pg says, without a code, when a connection ends under it. */
const LOST_MESSAGES = [
  'Connection terminated',
  'connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
];

/**
 * Whether `err` means "the database is not reachable right now" (as opposed to a statement it
 * refused): the request gets 503 `database_unavailable`, a job backs off and tries again whole.
 */
export function isConnectionLoss(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as PgError;
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || isConnectionState(e.code))) return true;
  if (typeof e.message === 'string' && LOST_MESSAGES.some((m) => e.message!.includes(m))) return true;
  // Node wraps the refusals of every address of a host (::1 and 127.0.0.1) in an AggregateError.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isConnectionLoss(inner, depth + 1))) return true;
  return e.cause !== undefined && isConnectionLoss(e.cause, depth + 1);
}

export interface RetryOptions {
  /** First wait; it doubles after each further loss, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Give up (and rethrow) after this long without the database; default: never. */
  giveUpAfterMs?: number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` (a whole transaction, or one idempotent statement) again while it fails on a lost
 * connection, with exponential backoff. Only for work that is safe to redo from the start: a
 * transaction that rolled back, or one whose commit may have happened but whose effect is
 * idempotent (claims, keyed inserts, `set status = 'sent'`).
 */
export async function retryOnConnectionLoss<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
      if (options.giveUpAfterMs !== undefined && Date.now() - started >= options.giveUpAfterMs) throw err;
      const delay = backoffDelay(attempt, base, max);
      options.onRetry?.(err, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** `base · 2^(attempt-1)`, capped, with ±25 % jitter so that many processes do not come back in step. */
export function backoffDelay(attempt: number, base: number, max: number): number {
  const raw = Math.min(max, base * 2 ** Math.min(attempt - 1, 20));
  return Math.round(raw * (0.75 + Math.random() * 0.5));
}

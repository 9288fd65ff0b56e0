import { isEmail } from '../../platform/email.ts';

export type PoolType = 'unique' | 'static';

export interface PoolSettings {
  name: string;
  type: PoolType;
  expirationCutoffDays: number;
  active: boolean;
  defaultCode: string | null;
  defaultCodeExpiresAt: Date | null;
  threshold: number | null;
  notificationEmails: string[];
  /** A code a permanently refused mail carried (and no other mail showed) goes back to the pool. */
  releaseUndelivered: boolean;
  /** Unique pools: a `coupon_expiring` event this many days before an assigned, unredeemed code expires (null: none). */
  expiryReminderDays: number | null;
}

/** Every count is of codes; `total = assigned + available + withinCutoff + expired`. */
export interface PoolCounts {
  total: number;
  /** Unassigned and eligible now: no expiration, or expiring at least the cutoff away. */
  available: number;
  assigned: number;
  /** Unassigned, expiration passed. */
  expired: number;
  /** Unassigned, not expired, but inside the cutoff: never handed out any more. */
  withinCutoff: number;
  /** Live (not rolled back) redemptions of the pool's codes, shared codes once per order (migration 0011). */
  redeemed: number;
}

export interface Pool extends PoolSettings {
  id: string;
  key: number;
  accountId: string;
  merchantId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface PoolWithCounts extends Pool {
  counts: PoolCounts;
  runsOutAt: Date | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

const DAY_MS = 86_400_000;

/** The instant from which a code is eligible: its expiration must be at or after it. */
export const eligibleFrom = (now: Date, cutoffDays: number): Date => new Date(now.getTime() + cutoffDays * DAY_MS);


/**
 * Notification addresses: comma- or semicolon-delimited text (spaces allowed) or an array;
 * each must be a valid address; stored trimmed and deduplicated (case-insensitively).
 */
export function parseNotificationEmails(input: string | string[]): { emails: string[]; problems: FieldProblem[] } {
  const parts = (Array.isArray(input) ? input : [input]).flatMap((s) => s.split(/[;,]/)).map((s) => s.trim()).filter(Boolean);
  const emails: string[] = [];
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const address of parts) {
    if (!isEmail(address)) {
      problems.push({ field: 'notificationEmails', message: `"${address}" is not a valid email address` });
      continue;
    }
    const key = address.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      emails.push(address);
    }
  }
  return { emails, problems };
}

/** Rules across settings, checked on create and on the merged result of an edit. */
export function checkPoolSettings(settings: PoolSettings): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (settings.type === 'static' && settings.expirationCutoffDays !== 0) {
    problems.push({ field: 'expirationCutoffDays', message: 'the expiration cutoff applies to unique pools only' });
  }
  if (settings.defaultCodeExpiresAt && !settings.defaultCode) {
    problems.push({ field: 'defaultCodeExpiresAt', message: 'a default code expiration needs a default code' });
  }
  return problems;
}

/**
 * When the pool runs out at the last 7 days' assignment rate; null when nothing was assigned
 * in that time (no rate to extrapolate) or nothing is left.
 */
export function forecastRunOut(available: number, assignedLast7Days: number, now: Date): Date | null {
  if (available <= 0 || assignedLast7Days <= 0) return null;
  const perMs = assignedLast7Days / (7 * DAY_MS);
  return new Date(now.getTime() + Math.ceil(available / perMs));
}

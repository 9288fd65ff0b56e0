import { z } from 'zod';
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
  /** Archived: distributes nothing (assignments answer pool_inactive), takes no codes, listed apart. */
  archivedAt: Date | null;
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
  const parts = (Array.isArray(input) ? input : [input])
    .flatMap((s) => s.split(/[;,]/))
    .map((s) => s.trim())
    .filter(Boolean);
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

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const countsOut = z.object({
  total: z.number(),
  available: z.number(),
  assigned: z.number(),
  expired: z.number(),
  withinCutoff: z.number(),
  redeemed: z.number(),
});

export const poolOut = z.object({
  id: z.string(),
  merchantId: z.string(),
  name: z.string(),
  type: z.enum(['unique', 'static']),
  expirationCutoffDays: z.number(),
  active: z.boolean(),
  defaultCode: z.string().nullable(),
  defaultCodeExpiresAt: z.string().nullable(),
  threshold: z.number().nullable(),
  notificationEmails: z.array(z.string()),
  releaseUndelivered: z.boolean(),
  expiryReminderDays: z.number().nullable(),
  counts: countsOut,
  runsOutAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullable().describe('archived: distributes nothing, takes no codes, listed apart (?archived=true)'),
});

// ---------------------------------------------------------------------------------------------
// The API's shapes (routes.ts validates and serializes them; the console reads them: web/src/api.ts)

// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const noControlChars = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

/** expiryReminderDays' bounds (the API's schema and the console's pool form). */
export const EXPIRY_REMINDER_DAYS = { min: 1, max: 3650 } as const;

/** The pool form's check of expiryReminderDays as typed (empty: no reminders); null when it is fine. */
export const expiryReminderDaysProblem = (typed: string): string | null => {
  const s = typed.trim();
  if (!s) return null;
  const n = Number(s);
  return /^\d+$/.test(s) && n >= EXPIRY_REMINDER_DAYS.min && n <= EXPIRY_REMINDER_DAYS.max
    ? null
    : `A whole number of days from ${EXPIRY_REMINDER_DAYS.min} to ${EXPIRY_REMINDER_DAYS.max} (or leave empty).`;
};

export const poolSettingsBody = z.object({
  name: z.string().trim().min(1).max(100),
  type: z.enum(['unique', 'static']),
  expirationCutoffDays: z.number().int().min(0).max(3650).optional(),
  active: z.boolean().optional(),
  defaultCode: z.string().trim().min(1).max(50).refine(noControlChars, 'must not contain control characters').nullable().optional(),
  defaultCodeExpiresAt: z.string().max(40).nullable().optional().describe('YYYY-MM-DD, MM/DD/YYYY or ISO-8601 with offset'),
  threshold: z.number().int().min(0).nullable().optional(),
  notificationEmails: z
    .union([z.string().max(5000), z.array(z.string().max(320)).max(100)])
    .optional()
    .describe('comma- or semicolon-delimited addresses, or a list'),
  releaseUndelivered: z.boolean().optional().describe('a code a permanently refused mail carried goes back to the pool (default true)'),
  expiryReminderDays: z
    .number()
    .int()
    .min(EXPIRY_REMINDER_DAYS.min)
    .max(EXPIRY_REMINDER_DAYS.max)
    .nullable()
    .optional()
    .describe('a coupon_expiring event this many days before an assigned, unredeemed unique code expires'),
});

// Static rows (static-routes.ts)

export const rowIn = z.object({
  code: z.string().max(200),
  expiresOn: z.string().max(40).optional(),
  daysAfterDistribution: z.number().int().optional(),
  beginDistribution: z.string().max(40),
  endDistribution: z.string().max(40),
});

export const problem = z.object({ row: z.number(), field: z.string(), message: z.string() });

export const rowOut = z.object({
  code: z.string(),
  expiresOn: z.string().nullable(),
  daysAfterDistribution: z.number().nullable(),
  beginDistribution: z.string(),
  endDistribution: z.string(),
});
export type PoolJson = z.infer<typeof poolOut>;
/** A pool's settings as sent on create (and, partly, on edit). */
export type PoolSettingsInput = z.input<typeof poolSettingsBody>;
export type StaticRowJson = z.infer<typeof rowOut>;
export type StaticRowInputJson = z.infer<typeof rowIn>;
export type RowProblemJson = z.infer<typeof problem>;

/** A conversation that uses something (a pool, a field, a message): named in a 409 `…_in_use`. */
export const usedByOut = z.object({ type: z.literal('conversation'), id: z.string(), name: z.string(), status: z.string() });
export type UsedByJson = z.infer<typeof usedByOut>;

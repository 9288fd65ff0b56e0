/** Outbox rules: pure. */
import { z } from 'zod';

/** `message`: marketing mail (unsubscribe link, suppression); `test`: a test send of a message. */
/** `access`: invitations and password resets (their links sign in): shown to owners only. */
export type MailKind = 'message' | 'notification' | 'test' | 'access';
export type MailStatus = 'queued' | 'sent' | 'failed';

/**
 * The header a test send carries: the id of the message it tests. A merchant-limited caller sees a
 * test mail when that message is its own (reads no coupon field of another merchant).
 */
export const TEST_MESSAGE_HEADER = 'X-Couponflow-Test-Message';

/** A mail to write into the outbox (inside the transaction of the change that calls for it). */
export interface NewMail {
  accountId: string;
  merchantId: string | null;
  kind: MailKind;
  to: string;
  from: { name: string; email: string };
  subject: string;
  html: string;
  text: string | null;
  /** Extra headers (List-Unsubscribe on marketing mail). */
  headers?: Record<string, string> | null;
}

export interface Mail extends NewMail {
  id: string;
  messageId: string;
  status: MailStatus;
  transport: 'outbox' | 'smtp';
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** The wait after the first failed attempt; it doubles after each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A stable Message-ID, chosen once per mail: every attempt at it carries the same one. */
export function messageIdFor(id: string, domain: string): string {
  return `<${id}@${domain}>`;
}

/** What happens after attempt number `attempts` failed: try again at a time, or give up. */
export function afterFailure(
  attempts: number,
  policy: RetryPolicy,
  now: Date,
): { status: 'queued'; nextAttemptAt: Date } | { status: 'failed' } {
  if (attempts >= policy.maxAttempts) return { status: 'failed' };
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return { status: 'queued', nextAttemptAt: new Date(now.getTime() + delay) };
}

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const mailOut = z.object({
  id: z.string(),
  kind: z.enum(['message', 'notification', 'test', 'access']),
  merchantId: z.string().nullable(),
  to: z.string(),
  from: z.object({ name: z.string(), email: z.string() }),
  subject: z.string(),
  html: z.string(),
  text: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  messageId: z.string(),
  status: z.enum(['queued', 'sent', 'failed']),
  transport: z.enum(['outbox', 'smtp']),
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  smtpReply: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});
export type MailJson = z.infer<typeof mailOut>;

/** Outbox rules: pure. */

/** `message`: marketing mail (unsubscribe link, suppression); `test`: a test send of a message. */
/** `access`: invitations and password resets (their links sign in): shown to owners only. */
export type MailKind = 'message' | 'notification' | 'test' | 'access';
export type MailStatus = 'queued' | 'sent' | 'failed';

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
export function afterFailure(attempts: number, policy: RetryPolicy, now: Date): { status: 'queued'; nextAttemptAt: Date } | { status: 'failed' } {
  if (attempts >= policy.maxAttempts) return { status: 'failed' };
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return { status: 'queued', nextAttemptAt: new Date(now.getTime() + delay) };
}

import type { Generated, JSONColumnType } from 'kysely';

/** Mail: the outbox, installation settings, suppressions, and messages. */
export interface MailTables {
  outbox: {
    account_id: string;
    id: string;
    merchant_id: string | null;
    kind: 'message' | 'notification' | 'test' | 'access';
    to_email: string;
    from_name: string;
    from_email: string;
    subject: string;
    html: string;
    text: string | null;
    message_id: string;
    status: 'queued' | 'sent' | 'failed';
    transport: 'outbox' | 'smtp';
    attempts: Generated<number>;
    next_attempt_at: Date | null;
    /** The SMTP server's last answer: the error of a failed attempt, or the reply that accepted the mail once sent. */
    last_error: string | null;
    created_at: Date;
    sent_at: Date | null;
    /** The claiming sender's fencing token (migration 0009); null when no sender holds the mail. */
    lease_token: string | null;
    /** Extra headers (migration 0010): List-Unsubscribe and List-Unsubscribe-Post on marketing mail. */
    headers: JSONColumnType<Record<string, string> | null, string | null | undefined, string | null>;
  };
  // mail (migration 0010): the generated SECRET_KEY, and each account's suppressed addresses
  installation_settings: {
    key: string;
    value: string;
    created_at: Generated<Date>;
  };
  suppressions: {
    account_id: string;
    /** Lower-cased. */
    email: string;
    reason: 'unsubscribed' | 'bounced' | 'complained' | 'manual';
    detail: string | null;
    created_at: Date;
  };
  messages: {
    account_id: string;
    id: string;
    name: string;
    from_name: string;
    from_email: string;
    subject: string;
    html: string;
    text: string | null;
    created_at: Date;
    updated_at: Date;
  };
}

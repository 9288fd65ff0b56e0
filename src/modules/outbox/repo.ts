import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Mail } from './model.ts';

type Q = Kysely<DB>;
type Row = Selectable<DB['outbox']>;

export type MailRow = Omit<DB['outbox'], 'attempts' | 'lease_token' | 'headers'> & { attempts: number; headers: Record<string, string> | null };

const toMail = (r: Row): Mail => ({
  id: r.id,
  accountId: r.account_id,
  merchantId: r.merchant_id,
  kind: r.kind,
  to: r.to_email,
  from: { name: r.from_name, email: r.from_email },
  subject: r.subject,
  html: r.html,
  text: r.text,
  headers: r.headers,
  messageId: r.message_id,
  status: r.status,
  transport: r.transport,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
  sentAt: r.sent_at,
});

/**
 * Writes mail rows in one statement per 5,000: the rows travel as one JSON parameter (a batch of
 * a thousand mails as 18,000 bind parameters took twice as long to send and plan).
 */
export async function insertMails(db: Q, rows: MailRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await sql`
      insert into outbox (account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text,
                          message_id, status, transport, attempts, next_attempt_at, last_error, created_at, sent_at, headers)
      select account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text,
             message_id, status, transport, attempts, next_attempt_at, last_error, created_at, sent_at, headers
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + 5000))}::jsonb) as m(
        account_id text, id text, merchant_id text, kind text, to_email text, from_name text, from_email text,
        subject text, html text, text text, message_id text, status text, transport text, attempts integer,
        next_attempt_at timestamptz, last_error text, created_at timestamptz, sent_at timestamptz, headers jsonb)`.execute(db);
  }
}

/**
 * The sender's claim: due queued mail, oldest due first, rows another sender holds skipped.
 * The MATERIALIZED CTE runs the locking select once (a plain `IN (subquery)` may be re-run by the
 * planner and update more rows than the limit). Claiming bumps `attempts`, pushes
 * `next_attempt_at` a lease ahead and writes the claim's `lease_token` (the fencing token), and
 * commits at once: the SMTP conversation happens outside any transaction, and a sender that dies
 * mid-send leaves the row to be retried after the lease. A later claim writes a new token, so the
 * first sender's late result finds the row no longer its own (see markSent).
 */
export async function claimDue(db: Q, args: { now: Date; limit: number; leaseMs: number; leaseToken: string }): Promise<Mail[]> {
  const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
  const result = await sql<Row>`
    with due as materialized (
      select ctid from outbox
      where status = 'queued' and next_attempt_at <= ${args.now}
      order by next_attempt_at
      limit ${args.limit}
      for update skip locked
    )
    update outbox set attempts = outbox.attempts + 1, next_attempt_at = ${leaseUntil}, lease_token = ${args.leaseToken}
    from due
    where outbox.ctid = due.ctid
    returning outbox.*`.execute(db);
  return result.rows.map(toMail);
}

/**
 * The sender's results, fenced: written only while the row still carries this sender's lease
 * token (and is queued). A sender whose lease ran out and whose mail another sender claimed
 * changes nothing; answers whether the row was still ours.
 */
export async function markSent(db: Q, id: string, leaseToken: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ status: 'sent', sent_at: at, next_attempt_at: null, last_error: null, lease_token: null })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function markFailedAttempt(
  db: Q,
  id: string,
  leaseToken: string,
  next: { status: 'queued'; nextAttemptAt: Date } | { status: 'failed' },
  error: string,
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ status: next.status, next_attempt_at: next.status === 'queued' ? next.nextAttemptAt : null, last_error: error.slice(0, 2000), lease_token: null })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface MailFilter {
  accountId: string;
  merchantIds: string[] | null;
  /**
   * With merchantIds: the conversations whose mail (merchant null, written by a message step) the
   * caller also sees; the link is the step run that wrote the mail (step_runs.mail_id).
   */
  conversationIds?: string[] | undefined;
  to?: string | undefined;
  kind?: Mail['kind'] | undefined;
  status?: Mail['status'] | undefined;
  /** Show mail of kind `access` (one-time sign-in links): for unlimited owners only. */
  accessMail?: boolean | undefined;
}

function filtered(db: Q, f: MailFilter) {
  let q = db.selectFrom('outbox').selectAll().where('account_id', '=', f.accountId);
  if (!f.accessMail) q = q.where('kind', '!=', 'access');
  if (f.merchantIds) {
    const merchants = f.merchantIds.length ? f.merchantIds : [''];
    const conversations = f.conversationIds ?? [];
    q = q.where((eb) =>
      eb.or([
        eb('merchant_id', 'in', merchants),
        ...(conversations.length
          ? [
              eb.and([
                eb('merchant_id', 'is', null),
                eb('kind', '=', 'message'),
                eb(
                  'id',
                  'in',
                  eb
                    .selectFrom('step_runs')
                    .select('mail_id')
                    .where('step_runs.account_id', '=', f.accountId)
                    .where('step_runs.conversation_id', 'in', conversations)
                    .where('step_runs.mail_id', 'is not', null)
                    .$narrowType<{ mail_id: string }>(),
                ),
              ]),
            ]
          : []),
      ]),
    );
  }
  if (f.to) q = q.where(sql`lower(to_email)`, '=', f.to.toLowerCase());
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.status) q = q.where('status', '=', f.status);
  return q;
}

/** Newest first (ids are time-ordered UUIDv7). */
export async function listMails(db: Q, f: MailFilter, page: { before: string | undefined; limit: number }): Promise<Mail[]> {
  let q = filtered(db, f);
  if (page.before) q = q.where('id', '<', page.before);
  return (await q.orderBy('id', 'desc').limit(page.limit).execute()).map(toMail);
}

export async function findMail(db: Q, f: MailFilter, id: string): Promise<Mail | undefined> {
  const row = await filtered(db, f).where('id', '=', id).executeTakeFirst();
  return row ? toMail(row) : undefined;
}

import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import { recordset, type Columns } from '../../platform/db/bulk.ts';
import { TEST_MESSAGE_HEADER, type Mail } from './model.ts';

/*
 * The outbox's hot statements: writing mail, the sender's claim and its fenced results, and the
 * bounce's release of codes. Headers: what each locks and in which order, what makes it
 * idempotent, the invariant it relies on, why it has this shape.
 */

type Q = Kysely<DB>;
type Row = Selectable<DB['outbox']>;

export type MailRow = Omit<DB['outbox'], 'attempts' | 'lease_token' | 'headers'> & {
  attempts: number;
  headers: Record<string, string> | null;
};

export const toMail = (r: Row): Mail => ({
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

const MAIL_COLUMNS: Columns<MailRow> = {
  account_id: 'text',
  id: 'text',
  merchant_id: 'text',
  kind: 'text',
  to_email: 'text',
  from_name: 'text',
  from_email: 'text',
  subject: 'text',
  html: 'text',
  text: 'text',
  message_id: 'text',
  status: 'text',
  transport: 'text',
  attempts: 'integer',
  next_attempt_at: 'timestamptz',
  last_error: 'text',
  created_at: 'timestamptz',
  sent_at: 'timestamptz',
  headers: 'jsonb',
};

/**
 * Writes mail rows in one statement per 5,000: the rows travel as one JSON parameter (a batch of
 * a thousand mails as 18,000 bind parameters took twice as long to send and plan).
 * Locks nothing but the new rows. Idempotent by the primary key (a repeated id fails the
 * transaction that writes it: mail is written in the transaction of the change that calls for it).
 */
export async function insertMails(db: Q, rows: MailRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await sql`
      insert into outbox (account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text,
                          message_id, status, transport, attempts, next_attempt_at, last_error, created_at, sent_at, headers)
      select account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text,
             message_id, status, transport, attempts, next_attempt_at, last_error, created_at, sent_at, headers
      from ${recordset(rows.slice(i, i + 5000), MAIL_COLUMNS, 'm')}`.execute(db);
  }
}

/** The test sends' message id (a header of test mail), for the scope filter of merchant-limited callers. */
export const testMessageOf = sql<string>`headers->>${TEST_MESSAGE_HEADER}`;

/**
 * The sender's claim: due queued mail, oldest due first, rows another sender holds skipped.
 * Locks: the claimed outbox rows (FOR UPDATE SKIP LOCKED, in next_attempt_at order), only until
 * the claim commits, at once: the SMTP conversation happens outside any transaction.
 * Idempotent / fenced: claiming bumps `attempts`, pushes `next_attempt_at` a lease ahead and
 * writes a new `lease_token`; a sender that dies mid-send leaves the row to be claimed again
 * after the lease, and the first sender's late result then finds the row no longer its own (see
 * markSentBatch). Invariant: a queued row is due exactly when no live lease covers it.
 * Shape: the claim idiom of all three queues (see assignments.sql.ts): the MATERIALIZED CTE runs
 * the locking select once (a plain `IN (subquery)` may be re-run by the planner and update more
 * rows than the limit), and `ctid = any(array(…))` is always a TID scan — the join on ctid this
 * statement used before is the form that let PGlite's planner hash-join over a sequential scan
 * (see the claim in assignments.sql.ts). Pinned by test/outbox/plan.test.ts.
 */
export function claimDueStatement(p: { now: Date; limit: number; leaseUntil: Date; leaseToken: string }) {
  return sql<Row>`
    with due as materialized (
      select ctid from outbox
      where status = 'queued' and next_attempt_at <= ${p.now}
      order by next_attempt_at
      limit ${p.limit}
      for update skip locked
    )
    update outbox set attempts = attempts + 1, next_attempt_at = ${p.leaseUntil}, lease_token = ${p.leaseToken}
    where ctid = any(array(select ctid from due))
    returning *`;
}

export async function claimDue(db: Q, args: { now: Date; limit: number; leaseMs: number; leaseToken: string }): Promise<Mail[]> {
  const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
  const result = await claimDueStatement({ ...args, leaseUntil }).execute(db);
  return result.rows.map(toMail);
}

export interface SentResult {
  id: string;
  at: Date;
  /** The SMTP server's reply to the mail's DATA (e.g. `250 OK: queued as …`); kept in last_error. */
  reply: string | null;
}

/**
 * markSentBatch — many delivered mails of ONE claim recorded in one statement (the sender used to
 * write one `update … where id = $1` per mail: a round trip each).
 * - Fencing: a row is written only while it still carries `leaseToken` and is `queued`: a sender
 *   whose lease ran out, and whose mail another sender claimed since, changes nothing for that mail.
 *   Answers the ids that were still ours (the others count as neither sent nor failed here).
 * - Locks: one row lock per listed mail (outbox_id_key), taken in id order (the array is sorted
 *   here) so two statements over overlapping rows cannot deadlock; held only for this statement.
 * - Idempotency: running it twice is harmless: the second run finds `status = 'sent'` and
 *   `lease_token` null and updates nothing.
 * - The reply goes into `last_error` (the server's last answer: the refusal of a failed attempt, or
 *   the acceptance of the delivery); the API shows it as `smtpReply` and `lastError` only while unsent.
 */
export async function markSentBatch(db: Q, leaseToken: string, results: readonly SentResult[]): Promise<string[]> {
  if (results.length === 0) return [];
  const sorted = [...results].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result = await sql<{ id: string }>`
    update outbox o set status = 'sent', sent_at = r.at, next_attempt_at = null, lease_token = null, last_error = nullif(r.reply, '')
    from (
      select * from unnest(${sorted.map((r) => r.id)}::text[], ${sorted.map((r) => r.at.toISOString())}::timestamptz[], ${sorted.map((r) => (r.reply ?? '').slice(0, 2000))}::text[])
        as r(id, at, reply)
    ) r
    where o.id = r.id and o.lease_token = ${leaseToken} and o.status = 'queued'
    returning o.id`.execute(db);
  return result.rows.map((r) => r.id);
}

/**
 * A failed attempt, fenced like markSentBatch (one row, by this sender's lease token); failures
 * are rare, so one statement each.
 */
export async function markFailedAttempt(
  db: Q,
  id: string,
  leaseToken: string,
  next: { status: 'queued'; nextAttemptAt: Date } | { status: 'failed' },
  error: string,
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({
      status: next.status,
      next_attempt_at: next.status === 'queued' ? next.nextAttemptAt : null,
      last_error: error.slice(0, 2000),
      lease_token: null,
    })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// ---------------------------------------------------------------------------------------------
// Bounces (bounces.ts: one transaction, lock order mail → suppression → assignment → code →
// counters → contact, the order the conductor's batch takes codes, counters and contacts in).
// These statements touch the assignments, codes, counters and contacts tables: a bounce must
// undo an assignment in the same transaction as the mail's failure (see docs/ARCHITECTURE.md,
// "Boundaries").

/**
 * Fails the mail for good, only while the claim this sender made is still the row's (queued, same
 * attempts and lease end). Locks the mail row. Idempotent: the sender that lost its lease, or a
 * second call for the same mail, updates nothing (false) and the bounce does nothing else.
 */
export async function failQueuedMail(db: Q, mail: Mail, reply: string): Promise<boolean> {
  const failed = await sql`
    update outbox set status = 'failed', next_attempt_at = null, last_error = ${reply}
    where id = ${mail.id} and status = 'queued' and attempts = ${mail.attempts}
      and next_attempt_at is not distinct from ${mail.nextAttemptAt}
    returning id`.execute(db);
  return failed.rows.length > 0;
}

/**
 * Releases the recipient's unique-code assignments that this mail showed (in its HTML or text),
 * from pools that release undelivered codes, that no other marketing mail to that address (sent or
 * queued) shows. Locks each released assignment row. Idempotent: `where released_at is null`, so
 * two bounces of two mails showing one code release it once. Frees `assignments_code_id_key` for
 * the code (code_id set to null).
 */
export async function releaseAssignmentsOf(db: Q, mail: Mail, now: Date) {
  const released = await sql<{
    id: string;
    pool_key: string | number;
    code: string;
    code_id: string | number;
    contact_id: string;
    created_at: Date;
  }>`
    with candidates as (
      select a.account_id, a.id, a.code_id as old_code_id
      from contacts c
      join assignments a on a.account_id = c.account_id and a.contact_id = c.id
      join pools p on p.key = a.pool_key
      join outbox m on m.account_id = ${mail.accountId} and m.id = ${mail.id}
      where c.account_id = ${mail.accountId} and lower(c.email) = lower(${mail.to})
        and a.source = 'unique' and a.released_at is null and a.code_id is not null
        and p.release_undelivered
        and (strpos(m.html, a.code) > 0 or strpos(coalesce(m.text, ''), a.code) > 0)
        and not exists (
          select from outbox o
          where o.account_id = ${mail.accountId} and lower(o.to_email) = lower(${mail.to})
            and o.id <> ${mail.id} and o.kind = 'message' and o.status in ('sent', 'queued')
            and (strpos(o.html, a.code) > 0 or strpos(coalesce(o.text, ''), a.code) > 0)
        )
    )
    update assignments a set released_at = ${now}, code_id = null
    from candidates
    where a.account_id = candidates.account_id and a.id = candidates.id and a.released_at is null
    returning a.id, a.pool_key, a.code, candidates.old_code_id as code_id, a.contact_id, a.created_at`.execute(db);
  return released.rows;
}

/**
 * A released code back into its pool: eligible again (`assigned_at` null), +1 unassigned on its
 * expiration instant's counter (slot 0), −1 on the day it was assigned (the assignment itself was
 * released once, by {@link releaseAssignmentsOf}). Locks the code row, then the counter rows.
 * The unassigned counter moves only when the code was still assigned. Invariant kept:
 * sum(unassigned) = count(*) of unassigned codes.
 */
export async function giveCodeBack(
  db: Q,
  p: { accountId: string; poolKey: number; codeId: string | number; assignedAt: Date },
): Promise<void> {
  const code = await sql<{ expires_at: Date | string }>`
    update codes set assigned_at = null where pool_key = ${p.poolKey} and id = ${p.codeId} and assigned_at is not null
    returning expires_at`.execute(db);
  const expiresAt = code.rows[0]?.expires_at;
  if (expiresAt !== undefined) {
    await sql`
      insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      values (${p.accountId}, ${p.poolKey}, ${expiresAt}, 0, 0, 1)
      on conflict (pool_key, expires_at, slot) do update set unassigned = pool_code_counts.unassigned + 1`.execute(db);
  }
  await sql`
    insert into pool_daily_assignments (account_id, pool_key, day, slot, assigned)
    values (${p.accountId}, ${p.poolKey}, ${p.assignedAt.toISOString().slice(0, 10)}::date, 0, -1)
    on conflict (pool_key, day, slot) do update set assigned = pool_daily_assignments.assigned - 1`.execute(db);
}

/** Clears the contact's fields that still hold `code` (a later step may have written another). Locks the contact row. */
export async function clearFieldsHolding(db: Q, accountId: string, contactId: string, code: string, now: Date): Promise<void> {
  await sql`
    update contacts set fields = coalesce(
        (select jsonb_object_agg(k, v) from jsonb_each(fields) as f(k, v) where v <> to_jsonb(${code}::text)), '{}'::jsonb),
      updated_at = ${now}
    where account_id = ${accountId} and id = ${contactId}
      and exists (select from jsonb_each(fields) as f(k, v) where v = to_jsonb(${code}::text))`.execute(db);
}

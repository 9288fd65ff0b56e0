/**
 * The sender's hot statements (SPEC §6: "a mail is marked sent or failed only by the sender that
 * holds its lease"). Each one is an exported function with its locking story; the outbox service
 * calls them, nothing else writes a claimed row.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';

type Q = Kysely<DB>;
export type OutboxRow = Selectable<DB['outbox']>;

/**
 * claimDue — the sender's claim: due queued mail, oldest due first.
 * - Locks: row locks on at most `limit` outbox rows (FOR UPDATE SKIP LOCKED: rows another sender is
 *   claiming right now are skipped, never waited for), in `next_attempt_at` order, for the length of
 *   this one statement (it commits at once: the SMTP conversation happens outside any transaction).
 * - The MATERIALIZED CTE runs the locking select once (a plain `IN (subquery)` may be re-run by the
 *   planner and update more rows than the limit); the update joins it on ctid.
 * - Fencing: claiming bumps `attempts`, pushes `next_attempt_at` a lease ahead and writes this
 *   claim's `lease_token`. A later claim (after the lease ran out) writes a new token, so a late
 *   result of the first sender finds the row no longer its own (see markSentBatch).
 * - Idempotency: none needed: a claim that is lost (the sender dies) only delays the mail by a lease.
 */
export async function claimDue(db: Q, args: { now: Date; limit: number; leaseMs: number; leaseToken: string }): Promise<OutboxRow[]> {
  const leaseUntil = new Date(args.now.getTime() + args.leaseMs);
  const result = await sql<OutboxRow>`
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
  return result.rows;
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

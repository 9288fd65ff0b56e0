import { sql, type Kysely } from 'kysely';

/**
 * The engine as a job system:
 * - A run whose step keeps failing counts `attempts` (with the `last_error`), waits a doubling
 *   backoff between them and, after CONDUCTOR_MAX_ATTEMPTS, is parked as `failed` until resumed.
 * - Runs of a paused conversation are `held`: they leave the claim's partial index
 *   `enrollments_due_idx (next_due_at) where status = 'active'`, so the claim never walks over
 *   them; pausing moves them there, resuming moves them back.
 * - A held or failed run has not ended: it still counts as the contact's one open run in the
 *   conversation (the partial unique index covers the three states).
 * - `outbox.lease_token`: the sender's fencing token, new at each claim. A mail is marked sent or
 *   failed only by the sender whose token is still on the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table enrollments add column attempts integer not null default 0;
    alter table enrollments add column last_error text;
    alter table enrollments drop constraint enrollments_status_check;
    alter table enrollments add constraint enrollments_status_check check (status in ('active', 'held', 'failed', 'completed', 'exited'));
    drop index enrollments_one_active;
    create unique index enrollments_one_active on enrollments (conversation_id, contact_id) where status in ('active', 'held', 'failed');
    update enrollments e set status = 'held'
    from conversations c
    where c.id = e.conversation_id and c.status = 'paused' and e.status = 'active';

    alter table outbox add column lease_token text;
  `.execute(db);
}

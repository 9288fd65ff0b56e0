import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

/*
 * Erasure and export of one contact: the one place that knows every table holding a
 * person's data. test/lifecycle/erasure.test.ts scans the catalog (every table, every text, jsonb
 * and uuid column) after an erasure, so a table added later that keeps the address or the
 * contact id fails it until it is handled here.
 *
 * Erasure runs these statements in ONE transaction, in this order (the lock order):
 *   1. the contact's runs (enrollments, then their step_runs): ended and unlinked first, so a run
 *      the engine holds is waited for, and what it wrote (a code, a mail) is seen by what follows;
 *   2. the contact row (FOR UPDATE): nobody upserts or assigns to it meanwhile;
 *   3. assignments and redemptions unlinked (kept: the code stays used), events, mails (outbox)
 *      and webhook deliveries about the person deleted, audit entries scrubbed, the contact deleted.
 * Idempotent: a second erasure finds no contact (404) and changes nothing.
 */

type Q = Kysely<DB>;

/** What an unlinked assignment or run names instead of the contact. */
export const ERASED = 'erased';

export interface ErasureTarget {
  accountId: string;
  contactId: string;
  /** Lower-cased. */
  email: string;
  now: Date;
}

/** 1. Runs: ended (`exited`, reason `erased`) and unlinked, the trigger event's properties gone; their steps lose the mail and detail. Locks the enrollment rows. */
export async function unlinkRuns(db: Q, t: ErasureTarget): Promise<number> {
  const ended = await sql<{ id: string }>`
    update enrollments
    set contact_id = ${ERASED},
        status = case when status in ('active', 'held', 'failed') then 'exited' else status end,
        exit_reason = case when status in ('active', 'held', 'failed') then 'erased' else exit_reason end,
        ended_at = coalesce(ended_at, ${t.now}),
        last_error = null,
        trigger_properties = null,
        updated_at = ${t.now}
    where account_id = ${t.accountId} and contact_id = ${t.contactId}
    returning id`.execute(db);
  const ids = ended.rows.map((r) => r.id);
  if (ids.length > 0) {
    await sql`
      update step_runs set mail_id = null, detail = null
      where account_id = ${t.accountId} and enrollment_id = any(${ids}::text[])`.execute(db);
  }
  return ids.length;
}

/** 2. The contact, locked for the rest of the erasure. */
export async function lockContact(db: Q, accountId: string, contactId: string): Promise<{ id: string; email: string } | undefined> {
  const r = await sql<{ id: string; email: string }>`
    select id, email from contacts where account_id = ${accountId} and id = ${contactId} for update`.execute(db);
  return r.rows[0];
}

/** Whether `column` (text) names the address or the contact id. */
const names = (column: ReturnType<typeof sql.ref>, t: ErasureTarget) =>
  sql<boolean>`(strpos(lower(${column}::text), ${t.email}) > 0 or strpos(${column}::text, ${t.contactId}) > 0)`;

/**
 * 3. Everything else. Assignments keep their code (never handed out twice) but name no one; a
 * client's idempotency key that names the person is kept as its hash (still unique). Redemptions
 * keep the order and amount, without contact or address.
 */
export async function eraseRest(db: Q, t: ErasureTarget): Promise<{ assignments: number; mails: number; events: number }> {
  const key = sql.ref('idempotency_key');
  const assignments = await sql`
    update assignments
    set contact_id = ${ERASED},
        idempotency_key = case when ${names(key, t)} then 'erased:' || md5(idempotency_key) else idempotency_key end
    where account_id = ${t.accountId} and contact_id = ${t.contactId}`.execute(db);
  await sql`
    update redemptions set contact_id = null, email = null
    where account_id = ${t.accountId} and (contact_id = ${t.contactId} or lower(email) = ${t.email})`.execute(db);
  const events = await sql`delete from events where account_id = ${t.accountId} and contact_id = ${t.contactId}`.execute(db);
  const mails = await sql`delete from outbox where account_id = ${t.accountId} and lower(to_email) = ${t.email}`.execute(db);
  // Webhook deliveries (queued or logged) whose payload names the person: a receiver hears nothing more of them.
  await sql`delete from webhook_queue where account_id = ${t.accountId} and ${names(sql.ref('payload'), t)}`.execute(db);
  await sql`
    update shopify_deliveries set detail = '{}'::jsonb
    where account_id = ${t.accountId} and ${names(sql.ref('detail'), t)}`.execute(db);
  // The audit log keeps what was done, not to whom.
  await sql`update audit_log set resource_id = null where account_id = ${t.accountId} and resource_id = ${t.contactId}`.execute(db);
  await sql`
    update audit_log set summary = '(named an erased contact)'
    where account_id = ${t.accountId} and strpos(lower(summary), ${t.email}) > 0`.execute(db);
  await sql`delete from contacts where account_id = ${t.accountId} and id = ${t.contactId}`.execute(db);
  return {
    assignments: Number(assignments.numAffectedRows ?? 0),
    mails: Number(mails.numAffectedRows ?? 0),
    events: Number(events.numAffectedRows ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Export (GET /v1/contacts/{id}/export): plain reads, no locks.

export async function eventsOf(db: Q, accountId: string, contactId: string) {
  return (
    await sql<{ id: string; type: string; properties: Record<string, unknown>; occurred_at: Date; created_at: Date }>`
      select id, type, properties, occurred_at, created_at from events
      where account_id = ${accountId} and contact_id = ${contactId} order by occurred_at, id`.execute(db)
  ).rows;
}

export async function codesOf(db: Q, accountId: string, contactId: string) {
  return (
    await sql<{
      id: string;
      pool_id: string;
      merchant_id: string;
      code: string;
      source: string;
      expires_at: Date | null;
      created_at: Date;
      released_at: Date | null;
    }>`
      select a.id, p.id as pool_id, p.merchant_id, a.code, a.source, a.expires_at, a.created_at, a.released_at
      from assignments a join pools p on p.key = a.pool_key
      where a.account_id = ${accountId} and a.contact_id = ${contactId} order by a.created_at, a.id`.execute(db)
  ).rows;
}

export async function redemptionsOf(db: Q, accountId: string, contactId: string, email: string) {
  return (
    await sql<{
      id: string;
      code: string;
      pool_id: string;
      merchant_id: string;
      order_id: string;
      amount: string | null;
      currency: string | null;
      source: string;
      redeemed_at: Date;
      rolled_back_at: Date | null;
    }>`
      select r.id, r.code, p.id as pool_id, r.merchant_id, r.order_id, r.amount, r.currency, r.source, r.redeemed_at, r.rolled_back_at
      from redemptions r join pools p on p.key = r.pool_key
      where r.account_id = ${accountId} and (r.contact_id = ${contactId} or lower(r.email) = ${email})
      order by r.redeemed_at, r.id`.execute(db)
  ).rows;
}

export async function mailsOf(db: Q, accountId: string, email: string) {
  return (
    await sql<{
      id: string;
      to_email: string;
      subject: string;
      html: string;
      text: string | null;
      status: string;
      kind: string;
      created_at: Date;
      sent_at: Date | null;
    }>`
      select id, to_email, subject, html, text, status, kind, created_at, sent_at from outbox
      where account_id = ${accountId} and lower(to_email) = ${email} order by id`.execute(db)
  ).rows;
}

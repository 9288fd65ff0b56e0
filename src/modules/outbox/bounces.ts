/**
 * Bounces: a permanent SMTP refusal (5xx) fails the mail at once, with the server's
 * reply, suppresses the address (`bounced`), and gives back to its pool the unique code the mail
 * carried — when the pool says so (`releaseUndelivered`) and no other mail showed that code.
 *
 * All of it is ONE transaction ({@link failPermanently}), and it happens exactly once:
 * - It starts by failing the mail `where status = 'queued'` and the claim this sender made is
 *   still the row's (same attempts and lease end): the sender that lost its lease, or a second
 *   call for the same mail, updates nothing and does nothing else. That update row-locks the mail.
 * - Each assignment is released `where released_at is null` (row lock on the assignment): two
 *   bounces of two mails showing the same code release it once.
 * - Lock order: mail → suppression → assignment → code → counters (pool_code_counts,
 *   pool_daily_assignments) → contact; the conductor's batch takes codes, counters, contacts in
 *   that same order, and claims skip locked codes rather than wait for them.
 * Releasing clears assignments.code_id (the code may back a new assignment: assignments_code_id_key),
 * sets codes.assigned_at back to null (the code is eligible again) and adds one to its expiration
 * instant's unassigned counter; the day's assignment count loses one. The contact's field is
 * cleared only where it still holds that code.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Mail } from './model.ts';

/** Is this transport error a permanent refusal (an SMTP 5xx reply)? 4xx and network errors are not. */
export function isPermanentRefusal(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** The server's reply, as the mail's last error. */
export function replyText(err: unknown): string {
  const e = err as { response?: unknown; message?: unknown } | null;
  const text = typeof e?.response === 'string' && e.response ? e.response : String(e?.message ?? err);
  return text.slice(0, 2000);
}

export interface ReleasedCode {
  poolKey: number;
  code: string;
}

export interface BounceOutcome {
  /** false: this sender no longer held the mail (or it was settled already): nothing was done. */
  failed: boolean;
  released: ReleasedCode[];
}

/**
 * Fails `mail` (as this sender claimed it) for good, suppresses its address and releases the
 * codes it carried; see the header. `suppress` runs inside `tx`.
 */
export async function failPermanently(
  db: Kysely<DB>,
  mail: Mail,
  reply: string,
  now: Date,
  suppress: (tx: Kysely<DB>, accountId: string, email: string, detail: string) => Promise<void>,
): Promise<BounceOutcome> {
  return db.transaction().execute(async (tx) => {
    const failed = await sql`
      update outbox set status = 'failed', next_attempt_at = null, last_error = ${reply}
      where id = ${mail.id} and status = 'queued' and attempts = ${mail.attempts}
        and next_attempt_at is not distinct from ${mail.nextAttemptAt}
      returning id`.execute(tx);
    if (failed.rows.length === 0) return { failed: false, released: [] };
    if (mail.kind === 'test') return { failed: true, released: [] };
    await suppress(tx, mail.accountId, mail.to, reply);
    if (mail.kind !== 'message') return { failed: true, released: [] };
    return { failed: true, released: await releaseCodesOf(tx, mail, now) };
  });
}

/**
 * The unique codes of the recipient's assignments that this mail showed (in its HTML or text),
 * from pools that release undelivered codes, that no other marketing mail to that address (sent,
 * or still queued to go out) shows — released, each once.
 */
async function releaseCodesOf(tx: Kysely<DB>, mail: Mail, now: Date): Promise<ReleasedCode[]> {
  const released = await sql<{ id: string; pool_key: string | number; code: string; code_id: string | number; contact_id: string; created_at: Date }>`
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
    returning a.id, a.pool_key, a.code, candidates.old_code_id as code_id, a.contact_id, a.created_at`.execute(tx);
  const out: ReleasedCode[] = [];
  for (const r of released.rows) {
    const poolKey = Number(r.pool_key);
    const code = await sql<{ expires_at: Date | string }>`
      update codes set assigned_at = null where pool_key = ${poolKey} and id = ${r.code_id} and assigned_at is not null
      returning expires_at`.execute(tx);
    const expiresAt = code.rows[0]?.expires_at;
    if (expiresAt !== undefined) {
      await sql`
        insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
        values (${mail.accountId}, ${poolKey}, ${expiresAt}, 0, 0, 1)
        on conflict (pool_key, expires_at, slot) do update set unassigned = pool_code_counts.unassigned + 1`.execute(tx);
    }
    await sql`
      insert into pool_daily_assignments (account_id, pool_key, day, slot, assigned)
      values (${mail.accountId}, ${poolKey}, ${r.created_at.toISOString().slice(0, 10)}::date, 0, -1)
      on conflict (pool_key, day, slot) do update set assigned = pool_daily_assignments.assigned - 1`.execute(tx);
    await sql`
      update contacts set fields = coalesce(
          (select jsonb_object_agg(k, v) from jsonb_each(fields) as f(k, v) where v <> to_jsonb(${r.code}::text)), '{}'::jsonb),
        updated_at = ${now}
      where account_id = ${mail.accountId} and id = ${r.contact_id}
        and exists (select from jsonb_each(fields) as f(k, v) where v = to_jsonb(${r.code}::text))`.execute(tx);
    out.push({ poolKey, code: r.code });
  }
  return out;
}

/** The sender's hook: a 5xx refusal is settled here (true); anything else is the sender's to retry (false). */
export function bounceHandler(deps: {
  db: Kysely<DB>;
  now: () => Date;
  suppress?: ((tx: Kysely<DB>, accountId: string, email: string, detail: string) => Promise<void>) | undefined;
  /** After the commit: the pools that got codes back (their notices re-arm). */
  onReleased?: ((accountId: string, poolKeys: number[]) => Promise<void>) | undefined;
}) {
  return async function handle(mail: Mail, err: unknown): Promise<boolean> {
    if (!isPermanentRefusal(err)) return false;
    const outcome = await failPermanently(deps.db, mail, replyText(err), deps.now(), deps.suppress ?? (async () => undefined));
    if (outcome.released.length > 0) await deps.onReleased?.(mail.accountId, [...new Set(outcome.released.map((r) => r.poolKey))]);
    return true;
  };
}

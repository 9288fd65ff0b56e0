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
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Mail } from './model.ts';
import { clearFieldsHolding, failQueuedMail, giveCodeBack, releaseAssignmentsOf } from './outbox.sql.ts';

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
    const failed = await failQueuedMail(tx, mail, reply);
    if (!failed) return { failed: false, released: [] };
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
  const released = await releaseAssignmentsOf(tx, mail, now);
  const out: ReleasedCode[] = [];
  for (const r of released) {
    const poolKey = Number(r.pool_key);
    await giveCodeBack(tx, { accountId: mail.accountId, poolKey, codeId: r.code_id, assignedAt: r.created_at });
    await clearFieldsHolding(tx, mail.accountId, r.contact_id, r.code, now);
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

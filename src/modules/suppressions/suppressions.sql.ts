import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { recordset } from '../../platform/db/bulk.ts';
import type { Suppression, SuppressionReason } from './model.ts';

/*
 * The suppression list's bulk statements. Idempotent by the primary key (account_id, email):
 * `on conflict do update … where` keeps the first reason except that what the address did
 * replaces `manual`. Locks: the suppression rows written.
 */

type Q = Kysely<DB>;

export const toSuppression = (r: { email: string; reason: SuppressionReason; detail: string | null; created_at: Date }): Suppression => ({
  email: r.email,
  reason: r.reason,
  detail: r.detail,
  createdAt: r.created_at,
});

/**
 * Suppresses addresses (lower-cased by the caller). An address already suppressed keeps its first
 * reason, except that `unsubscribed`/`bounced`/`complained` (what the address did) replaces `manual`.
 * Answers the rows as they are now.
 */
export async function suppress(
  db: Q,
  accountId: string,
  rows: { email: string; reason: SuppressionReason; detail?: string | null }[],
  now: Date,
): Promise<Suppression[]> {
  if (rows.length === 0) return [];
  const out: Suppression[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = [...new Map(rows.slice(i, i + 5000).map((r) => [r.email, r])).values()];
    const result = await sql<{ email: string; reason: SuppressionReason; detail: string | null; created_at: Date }>`
      insert into suppressions (account_id, email, reason, detail, created_at)
      select ${accountId}, x.email, x.reason, x.detail, ${now}
      from ${recordset(
        chunk.map((r) => ({ email: r.email, reason: r.reason, detail: r.detail ?? null })),
        { email: 'text', reason: 'text', detail: 'text' },
        'x',
      )}
      on conflict (account_id, email) do update
        set reason = excluded.reason, detail = excluded.detail
        where suppressions.reason = 'manual' and excluded.reason <> 'manual'
      returning email, reason, detail, created_at`.execute(db);
    out.push(...result.rows.map(toSuppression));
  }
  return out;
}

/**
 * The key an erased contact's suppression is kept under: `sha256:` and the hex
 * SHA-256 of the account id and the lower-cased address. The address itself is gone; the same
 * address, imported again, hashes to the same key and stays suppressed.
 */
export const erasedKey = (accountId: string, email: string): string =>
  `sha256:${createHash('sha256').update(`${accountId}:${email}`).digest('hex')}`;

/**
 * Which of these (lower-cased) addresses are suppressed, by address or by the hash an erasure
 * left (erasedKey): one indexed lookup for a whole batch.
 */
export async function suppressedAmong(db: Q, accountId: string, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const byKey = new Map<string, string>();
  for (const email of emails) {
    byKey.set(email, email);
    byKey.set(erasedKey(accountId, email), email);
  }
  const rows = await db
    .selectFrom('suppressions')
    .select('email')
    .where('account_id', '=', accountId)
    .where('email', '=', sql<string>`any(${[...byKey.keys()]}::text[])`)
    .execute();
  return new Set(rows.map((r) => byKey.get(r.email)!));
}

/**
 * Erasure (in its transaction): the address's suppression, if any, is kept under its hash
 * (erasedKey) instead. Locks the two suppression rows; idempotent (`on conflict do nothing`,
 * then the plain row is gone).
 */
export async function keepAsHash(db: Q, accountId: string, email: string): Promise<boolean> {
  const moved = await sql<{ email: string }>`
    with plain as (
      delete from suppressions where account_id = ${accountId} and email = ${email}
      returning reason, created_at
    )
    insert into suppressions (account_id, email, reason, detail, created_at)
    select ${accountId}, ${erasedKey(accountId, email)}, reason, null, created_at from plain
    on conflict (account_id, email) do nothing
    returning email`.execute(db);
  return moved.rows.length > 0;
}

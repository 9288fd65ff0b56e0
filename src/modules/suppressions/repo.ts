import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Suppression, SuppressionReason } from './model.ts';

type Q = Kysely<DB>;

const toSuppression = (r: { email: string; reason: SuppressionReason; detail: string | null; created_at: Date }): Suppression => ({
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
export async function suppress(db: Q, accountId: string, rows: { email: string; reason: SuppressionReason; detail?: string | null }[], now: Date): Promise<Suppression[]> {
  if (rows.length === 0) return [];
  const out: Suppression[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = [...new Map(rows.slice(i, i + 5000).map((r) => [r.email, r])).values()];
    const result = await sql<{ email: string; reason: SuppressionReason; detail: string | null; created_at: Date }>`
      insert into suppressions (account_id, email, reason, detail, created_at)
      select ${accountId}, x.email, x.reason, x.detail, ${now}
      from jsonb_to_recordset(${JSON.stringify(chunk.map((r) => ({ email: r.email, reason: r.reason, detail: r.detail ?? null })))}::jsonb)
        as x(email text, reason text, detail text)
      on conflict (account_id, email) do update
        set reason = excluded.reason, detail = excluded.detail
        where suppressions.reason = 'manual' and excluded.reason <> 'manual'
      returning email, reason, detail, created_at`.execute(db);
    out.push(...result.rows.map(toSuppression));
  }
  return out;
}

/** Which of these (lower-cased) addresses are suppressed: one indexed lookup for a whole batch. */
export async function suppressedAmong(db: Q, accountId: string, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await db.selectFrom('suppressions').select('email').where('account_id', '=', accountId).where('email', '=', sql<string>`any(${[...emails]}::text[])`).execute();
  return new Set(rows.map((r) => r.email));
}

export async function findSuppression(db: Q, accountId: string, email: string): Promise<Suppression | undefined> {
  const row = await db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId).where('email', '=', email).executeTakeFirst();
  return row ? toSuppression(row) : undefined;
}

/** By address, a page at a time; `search` matches part of the address. */
export async function listSuppressions(db: Q, accountId: string, p: { after?: string | undefined; limit: number; search?: string | undefined; reason?: SuppressionReason | undefined }): Promise<Suppression[]> {
  let q = db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId);
  if (p.after) q = q.where('email', '>', p.after);
  if (p.search) q = q.where(sql<string>`strpos(email, ${p.search.toLowerCase()})`, '>', sql<string>`0`);
  if (p.reason) q = q.where('reason', '=', p.reason);
  return (await q.orderBy('email').limit(p.limit).execute()).map(toSuppression);
}

export async function deleteSuppression(db: Q, accountId: string, email: string): Promise<boolean> {
  const result = await db.deleteFrom('suppressions').where('account_id', '=', accountId).where('email', '=', email).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

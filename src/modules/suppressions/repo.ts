import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Suppression, SuppressionReason } from './model.ts';
import { toSuppression } from './suppressions.sql.ts';

type Q = Kysely<DB>;

export { suppress, suppressedAmong, keepAsHash, erasedKey } from './suppressions.sql.ts';
import { erasedKey } from './suppressions.sql.ts';

export async function findSuppression(db: Q, accountId: string, email: string): Promise<Suppression | undefined> {
  const row = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('email', '=', email)
    .executeTakeFirst();
  return row ? toSuppression(row) : undefined;
}

/** By address, a page at a time; `search` matches part of the address. */
export async function listSuppressions(
  db: Q,
  accountId: string,
  p: { after?: string | undefined; limit: number; search?: string | undefined; reason?: SuppressionReason | undefined },
): Promise<Suppression[]> {
  let q = db.selectFrom('suppressions').selectAll().where('account_id', '=', accountId);
  if (p.after) q = q.where('email', '>', p.after);
  if (p.search) q = q.where((eb) => eb(eb.fn<number>('strpos', ['email', eb.val(p.search!.toLowerCase())]), '>', 0));
  if (p.reason) q = q.where('reason', '=', p.reason);
  return (await q.orderBy('email').limit(p.limit).execute()).map(toSuppression);
}

/** The address's suppression, and the hash an erasure of it left (the address asked to be mailed again). */
export async function deleteSuppression(db: Q, accountId: string, email: string): Promise<boolean> {
  const result = await db
    .deleteFrom('suppressions')
    .where('account_id', '=', accountId)
    .where('email', 'in', [email, erasedKey(accountId, email)])
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

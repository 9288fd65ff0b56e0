import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { RedemptionSource } from './model.ts';
import type { RedemptionRow } from './redemptions.sql.ts';

export { rollBackOrder } from './redemptions.sql.ts';

type Q = Kysely<DB>;
export type { RedemptionWithPool } from './redemptions.sql.ts';
type RedemptionWithPool = RedemptionRow & { pool_id: string };

export interface RedemptionFilters {
  poolId?: string | undefined;
  code?: string | undefined;
  orderId?: string | undefined;
  source?: RedemptionSource | undefined;
  /** live: not rolled back (default: both). */
  status?: 'live' | 'rolled_back' | undefined;
}

const withPool = (db: Q) =>
  db.selectFrom('redemptions as r').innerJoin('pools as p', 'p.key', 'r.pool_key').selectAll('r').select('p.id as pool_id');

export async function findRedemption(db: Q, accountId: string, id: string): Promise<RedemptionWithPool | undefined> {
  return (await withPool(db).where('r.account_id', '=', accountId).where('r.id', '=', id).executeTakeFirst()) as
    RedemptionWithPool | undefined;
}

/** Only a live redemption is rolled back; a second rollback changes nothing. */
export async function markRolledBack(db: Q, accountId: string, id: string, now: Date): Promise<void> {
  await db
    .updateTable('redemptions')
    .set({ rolled_back_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('rolled_back_at', 'is', null)
    .execute();
}

export async function listRedemptions(
  db: Q,
  accountId: string,
  merchantId: string,
  f: RedemptionFilters,
  page: { after?: string | undefined; limit: number },
): Promise<RedemptionWithPool[]> {
  let q = withPool(db).where('r.account_id', '=', accountId).where('r.merchant_id', '=', merchantId).orderBy('r.id').limit(page.limit);
  if (page.after) q = q.where('r.id', '>', page.after);
  if (f.poolId) q = q.where('p.id', '=', f.poolId);
  if (f.code) q = q.where('r.code', '=', f.code);
  if (f.orderId) q = q.where('r.order_id', '=', f.orderId);
  if (f.source) q = q.where('r.source', '=', f.source);
  if (f.status === 'live') q = q.where('r.rolled_back_at', 'is', null);
  if (f.status === 'rolled_back') q = q.where('r.rolled_back_at', 'is not', null);
  return (await q.execute()) as RedemptionWithPool[];
}

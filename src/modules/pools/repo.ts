import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Pool, PoolCounts, PoolSettings } from './model.ts';

type Q = Kysely<DB>;

export { poolHasContent, countsFor } from './pools.sql.ts';
type PoolRow = Selectable<DB['pools']>;

const toPool = (row: PoolRow): Pool => ({
  id: row.id,
  key: row.key,
  accountId: row.account_id,
  merchantId: row.merchant_id,
  name: row.name,
  type: row.type,
  expirationCutoffDays: row.expiration_cutoff_days,
  active: row.active,
  defaultCode: row.default_code,
  defaultCodeExpiresAt: row.default_code_expires_at,
  threshold: row.threshold,
  notificationEmails: row.notification_emails,
  releaseUndelivered: row.release_undelivered,
  expiryReminderDays: row.expiry_reminder_days,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  archivedAt: row.archived_at,
});

const settingsColumns = (s: Partial<PoolSettings>) => ({
  ...(s.name !== undefined && { name: s.name }),
  ...(s.type !== undefined && { type: s.type }),
  ...(s.expirationCutoffDays !== undefined && { expiration_cutoff_days: s.expirationCutoffDays }),
  ...(s.active !== undefined && { active: s.active }),
  ...(s.defaultCode !== undefined && { default_code: s.defaultCode }),
  ...(s.defaultCodeExpiresAt !== undefined && { default_code_expires_at: s.defaultCodeExpiresAt }),
  ...(s.threshold !== undefined && { threshold: s.threshold }),
  ...(s.notificationEmails !== undefined && { notification_emails: s.notificationEmails }),
  ...(s.releaseUndelivered !== undefined && { release_undelivered: s.releaseUndelivered }),
  ...(s.expiryReminderDays !== undefined && { expiry_reminder_days: s.expiryReminderDays }),
});

export async function insertPool(
  db: Q,
  pool: { accountId: string; id: string; merchantId: string; now: Date } & PoolSettings,
): Promise<Pool> {
  const row = await db
    .insertInto('pools')
    .values({
      account_id: pool.accountId,
      id: pool.id,
      merchant_id: pool.merchantId,
      name: pool.name,
      type: pool.type,
      expiration_cutoff_days: pool.expirationCutoffDays,
      active: pool.active,
      default_code: pool.defaultCode,
      default_code_expires_at: pool.defaultCodeExpiresAt,
      threshold: pool.threshold,
      notification_emails: pool.notificationEmails,
      release_undelivered: pool.releaseUndelivered,
      // The clock's time, not the database's: the daily history starts at the pool's first day.
      created_at: pool.now,
      updated_at: pool.now,
      expiry_reminder_days: pool.expiryReminderDays,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPool(row);
}

export async function updatePool(db: Q, accountId: string, id: string, changes: Partial<PoolSettings>, now: Date): Promise<Pool> {
  const row = await db
    .updateTable('pools')
    .set({ ...settingsColumns(changes), updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPool(row);
}

export async function findPool(db: Q, accountId: string, id: string): Promise<Pool | undefined> {
  const row = await db.selectFrom('pools').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return row && toPool(row);
}

/** For writers that must not race an edit of the pool (uploads, static rows): locks the row. Assignments take no pool lock. */
export async function lockPool(db: Q, accountId: string, id: string): Promise<Pool | undefined> {
  const row = await db
    .selectFrom('pools')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && toPool(row);
}

export async function listPools(
  db: Q,
  accountId: string,
  merchantId: string,
  page: { after?: string | undefined; limit: number; archived?: boolean },
): Promise<Pool[]> {
  let query = db
    .selectFrom('pools')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('merchant_id', '=', merchantId)
    .where('archived_at', page.archived ? 'is not' : 'is', null)
    .orderBy('id')
    .limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  return (await query.execute()).map(toPool);
}

export interface CountsRow extends PoolCounts {
  assignedLast7Days: number;
}

/** The static row whose distribution window contains `now` (windows never overlap). */
export async function findOpenStaticRow(db: Q, poolKey: number, now: Date) {
  return db
    .selectFrom('static_codes')
    .select(['code', 'expires_at', 'days_after_distribution'])
    .where('pool_key', '=', poolKey)
    .where('begin_at', '<=', now)
    .where('end_at', '>=', now)
    .orderBy('begin_at')
    .limit(1)
    .executeTakeFirst();
}

/** Pools that have someone to notify, across accounts, for the periodic threshold check. */
export async function listPoolsToWatch(db: Q, afterKey: number, limit: number): Promise<Pool[]> {
  const rows = await db
    .selectFrom('pools')
    .selectAll()
    .where('key', '>', afterKey)
    .where('archived_at', 'is', null)
    .where((eb) => eb(eb.fn<number>('cardinality', ['notification_emails']), '>', 0))
    .orderBy('key')
    .limit(limit)
    .execute();
  return rows.map(toPool);
}

/** Pools by key (a bounce gave codes back to them). */
export async function findPoolsByKey(db: Q, keys: number[]): Promise<Pool[]> {
  if (keys.length === 0) return [];
  return (await db.selectFrom('pools').selectAll().where('key', 'in', keys).execute()).map(toPool);
}

/** Archives (a date) or unarchives (null) a pool whose row the caller has locked. */
export async function setArchived(db: Q, accountId: string, id: string, at: Date | null, now: Date): Promise<Pool> {
  const row = await db
    .updateTable('pools')
    .set({ archived_at: at, updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPool(row);
}

/** Locks these pools against an archive (FOR SHARE) while a publish checks them; answers which are archived. */
export async function lockPoolsShared(db: Q, accountId: string, ids: string[]): Promise<{ id: string; name: string; archived: boolean }[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('pools')
    .select(['id', 'name', 'archived_at'])
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .orderBy('key')
    .forShare()
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, archived: r.archived_at !== null }));
}

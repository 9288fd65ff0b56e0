import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Pool, PoolCounts, PoolSettings } from './model.ts';

type Q = Kysely<DB>;
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

export async function insertPool(db: Q, pool: { accountId: string; id: string; merchantId: string } & PoolSettings): Promise<Pool> {
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

/** For writers that must not race an edit of the pool (uploads, assignment): locks the row. */
export async function lockPool(db: Q, accountId: string, id: string): Promise<Pool | undefined> {
  const row = await db.selectFrom('pools').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
  return row && toPool(row);
}

export async function listPools(db: Q, accountId: string, merchantId: string, page: { after?: string | undefined; limit: number }): Promise<Pool[]> {
  let query = db
    .selectFrom('pools')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  return (await query.execute()).map(toPool);
}

export async function poolHasContent(db: Q, poolKey: number): Promise<boolean> {
  const row = await sql<{ present: boolean }>`
    select exists (select 1 from pool_code_counts where pool_key = ${poolKey} and codes <> 0)
        or exists (select 1 from static_codes where pool_key = ${poolKey}) as present`.execute(db);
  return Boolean(row.rows[0]?.present);
}

export interface CountsRow extends PoolCounts {
  assignedLast7Days: number;
}

/**
 * Counts for several pools at `now`, from the counter rows (a handful per pool), never from the
 * codes themselves. A unique pool's codes are summed by expiration instant against `now` and the
 * pool's cutoff; a static pool counts its rows (available: a window is open now).
 */
export async function countsFor(db: Q, poolKeys: number[], now: Date): Promise<Map<number, CountsRow>> {
  if (poolKeys.length === 0) return new Map();
  const since = new Date(now.getTime() - 6 * 86_400_000).toISOString().slice(0, 10);
  const result = await sql<{
    key: number;
    total: number;
    assigned: number;
    expired: number;
    within_cutoff: number;
    available: number;
    assigned_last_7_days: number;
    redeemed: number;
  }>`
    select p.key,
      case when p.type = 'static' then s.total else coalesce(c.total, 0) end as total,
      case when p.type = 'static' then coalesce(d.all_time, 0) else coalesce(c.assigned, 0) end as assigned,
      case when p.type = 'static' then s.expired else coalesce(c.expired, 0) end as expired,
      case when p.type = 'static' then 0 else coalesce(c.within_cutoff, 0) end as within_cutoff,
      case when p.type = 'static' then s.open_now else coalesce(c.available, 0) end as available,
      coalesce(d.last_7_days, 0) as assigned_last_7_days,
      (select count(*) from redemptions r where r.pool_key = p.key and r.rolled_back_at is null) as redeemed
    from pools p
    left join lateral (
      select sum(codes) as total,
             sum(codes - unassigned) as assigned,
             sum(unassigned) filter (where expires_at < ${now}) as expired,
             sum(unassigned) filter (where expires_at >= ${now}
               and expires_at < ${now}::timestamptz + p.expiration_cutoff_days * interval '1 day') as within_cutoff,
             sum(unassigned) filter (where expires_at >= ${now}::timestamptz + p.expiration_cutoff_days * interval '1 day') as available
      from pool_code_counts where pool_key = p.key
    ) c on true
    left join lateral (
      select count(*) as total,
             count(*) filter (where end_at < ${now}) as expired,
             count(*) filter (where begin_at <= ${now} and end_at >= ${now}) as open_now
      from static_codes where pool_key = p.key
    ) s on p.type = 'static'
    left join lateral (
      select sum(assigned) as all_time, sum(assigned) filter (where day >= ${since}::date) as last_7_days
      from pool_daily_assignments where pool_key = p.key
    ) d on true
    where p.key = any(${poolKeys}::bigint[])`.execute(db);
  return new Map(
    result.rows.map((r) => [
      Number(r.key),
      {
        total: Number(r.total),
        assigned: Number(r.assigned),
        expired: Number(r.expired),
        withinCutoff: Number(r.within_cutoff),
        available: Number(r.available),
        assignedLast7Days: Number(r.assigned_last_7_days),
        redeemed: Number(r.redeemed),
      },
    ]),
  );
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
    .where(sql<boolean>`cardinality(notification_emails) > 0`)
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

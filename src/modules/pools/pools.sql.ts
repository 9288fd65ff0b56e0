import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { CountsRow } from './repo.ts';

/*
 * The pool counters' reads: counts at any `now` are sums over a handful of counter rows per pool
 * (pool_code_counts per expiration instant and slot, pool_daily_assignments per day and slot),
 * never a count over the codes (10M rows per request does not scale; docs/ARCHITECTURE.md "Pool
 * counts without counting codes"). Reads, no locks; the writers are in uploads.sql.ts,
 * assignments.sql.ts and outbox.sql.ts (bounces).
 */

type Q = Kysely<DB>;

export async function poolHasContent(db: Q, poolKey: number): Promise<boolean> {
  const row = await sql<{ present: boolean }>`
    select exists (select 1 from pool_code_counts where pool_key = ${poolKey} and codes <> 0)
        or exists (select 1 from static_codes where pool_key = ${poolKey}) as present`.execute(db);
  return Boolean(row.rows[0]?.present);
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

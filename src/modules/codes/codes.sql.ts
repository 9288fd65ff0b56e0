import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { CodeFilter, CodeRow } from './repo.ts';

/*
 * The codes page (list and export): a read, no locks. Its shape is measured: the MATERIALIZED
 * page is an index range scan on the codes primary key (pool_key, code) that stops at the limit;
 * joined first, a planner without statistics sorted the whole rest of the pool.
 */

type Q = Kysely<DB>;

/**
 * A page of a pool's unique codes with their status, in code order: keyset pagination on the codes
 * primary key (pool_key, code), so each page is an index range scan, however large the pool.
 * Status: redeemed (a live redemption), assigned, expired (unassigned, past its expiration),
 * available (unassigned, not expired). Reads assignments, contacts and redemptions by their keys.
 */
export async function listCodes(db: Q, p: { poolKey: number; accountId: string; now: Date; after?: string | undefined; limit: number } & CodeFilter): Promise<CodeRow[]> {
  const live = sql`exists (select from redemptions r where r.code_id = c.id and r.rolled_back_at is null)`;
  const status = {
    available: sql`c.assigned_at is null and c.expires_at >= ${p.now}`,
    expired: sql`c.assigned_at is null and c.expires_at < ${p.now}`,
    assigned: sql`c.assigned_at is not null and not ${live}`,
    redeemed: sql`c.assigned_at is not null and ${live}`,
  };
  const byEmail = p.q?.includes('@');
  // The page is picked first (MATERIALIZED: an index range scan that stops at the limit), and only
  // its rows are joined: without statistics, a planner joining first sorted the whole rest of the pool.
  const { rows } = await sql<CodeRow>`
    with page as materialized (
      select c.id, c.code, c.expires_at, c.assigned_at from codes c
      where c.pool_key = ${p.poolKey}
        ${p.after !== undefined ? sql`and c.code > ${p.after}` : sql``}
        ${p.status ? sql`and ${status[p.status]}` : sql``}
        ${p.q && !byEmail ? sql`and starts_with(c.code, ${p.q})` : sql``}
        ${p.q && byEmail ? sql`and c.id in (
          select a2.code_id from contacts ct2 join assignments a2 on a2.account_id = ct2.account_id and a2.contact_id = ct2.id
          where ct2.account_id = ${p.accountId} and lower(ct2.email) = lower(${p.q}) and a2.pool_key = ${p.poolKey} and a2.code_id is not null)` : sql``}
      order by c.code
      limit ${p.limit}
    )
    select c.code,
           case when r.id is not null then 'redeemed' when c.assigned_at is not null then 'assigned'
                when c.expires_at < ${p.now} then 'expired' else 'available' end as status,
           nullif(c.expires_at, 'infinity') as expires_at, a.contact_id, ct.email, a.created_at as assigned_at, r.redeemed_at
    from page c
    left join assignments a on a.code_id = c.id
    left join contacts ct on ct.account_id = a.account_id and ct.id = a.contact_id
    left join redemptions r on r.code_id = c.id and r.rolled_back_at is null
    order by c.code`.execute(db);
  return rows;
}

import { sql } from 'kysely';

export type { CodeStatus } from './model.ts';
import type { CodeStatus } from './model.ts';

export interface CodeRow {
  code: string;
  status: CodeStatus;
  expires_at: Date | null;
  contact_id: string | null;
  email: string | null;
  assigned_at: Date | null;
  redeemed_at: Date | null;
  upload_id: string | null;
}

export interface CodeFilter {
  status?: CodeStatus | undefined;
  /** A code prefix, or (with an @) a contact's email. */
  q?: string | undefined;
}

/**
 * A page of a pool's unique codes with their status, in code order.
 *
 * Locks nothing (a plain read; a page is consistent in itself, an export of a pool that changes
 * meanwhile is a series of such pages). Keyset pagination on the codes primary key
 * (pool_key, code): each page is an index range scan that stops at the limit, however large the
 * pool, so an export holds one page at a time (constant memory). Status: redeemed (a live
 * redemption), assigned, expired (unassigned, past its expiration), available (unassigned, not
 * expired). `uploadKey` (uploads.key, resolved by the caller) keeps the codes of one upload: a
 * filter on that range scan, no index of its own (codes from before migration 0014 carry none).
 * Reads assignments, contacts, redemptions and uploads by their keys, for the page's rows only.
 */
export function codesPageStatement(
  p: {
    poolKey: number;
    accountId: string;
    now: Date;
    after?: string | undefined;
    limit: number;
    uploadKey?: number | undefined;
  } & CodeFilter,
) {
  const live = sql`exists (select from redemptions r where r.code_id = c.id and r.rolled_back_at is null)`;
  const status = {
    // As the status column below: a live redemption first (a report source may redeem a code
    // that was never handed out), then assigned, then by the expiration.
    available: sql`c.assigned_at is null and c.expires_at >= ${p.now} and not ${live}`,
    expired: sql`c.assigned_at is null and c.expires_at < ${p.now} and not ${live}`,
    assigned: sql`c.assigned_at is not null and not ${live}`,
    redeemed: live,
  };
  const byEmail = p.q?.includes('@');
  // The page is picked first (MATERIALIZED: an index range scan that stops at the limit), and only
  // its rows are joined: without statistics, a planner joining first sorted the whole rest of the pool.
  return sql<CodeRow>`
    with page as materialized (
      select c.id, c.code, c.expires_at, c.assigned_at, c.upload_key from codes c
      where c.pool_key = ${p.poolKey}
        ${p.after !== undefined ? sql`and c.code > ${p.after}` : sql``}
        ${p.uploadKey !== undefined ? sql`and c.upload_key = ${p.uploadKey}` : sql``}
        ${p.status ? sql`and ${status[p.status]}` : sql``}
        ${p.q && !byEmail ? sql`and starts_with(c.code, ${p.q})` : sql``}
        ${
          p.q && byEmail
            ? sql`and c.id in (
          select a2.code_id from contacts ct2 join assignments a2 on a2.account_id = ct2.account_id and a2.contact_id = ct2.id
          where ct2.account_id = ${p.accountId} and lower(ct2.email) = lower(${p.q}) and a2.pool_key = ${p.poolKey} and a2.code_id is not null)`
            : sql``
        }
      order by c.code
      limit ${p.limit}
    )
    select c.code,
           case when r.id is not null then 'redeemed' when c.assigned_at is not null then 'assigned'
                when c.expires_at < ${p.now} then 'expired' else 'available' end as status,
           nullif(c.expires_at, 'infinity') as expires_at, a.contact_id, ct.email, a.created_at as assigned_at, r.redeemed_at,
           u.id as upload_id
    from page c
    left join assignments a on a.code_id = c.id
    left join contacts ct on ct.account_id = a.account_id and ct.id = a.contact_id
    left join redemptions r on r.code_id = c.id and r.rolled_back_at is null
    left join uploads u on u.key = c.upload_key
    order by c.code`;
}

import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

export interface ClaimedCode {
  id: number;
  code: string;
  /** null: the code never expires. */
  expiresAt: Date | null;
}

/**
 * Claims up to `count` eligible codes of a pool for the current transaction, soonest expiration
 * first (never-expiring codes last, stored as 'infinity'), ties in upload order — in ONE statement.
 *
 * Why it is safe under any concurrency, in any number of processes:
 * - `FOR UPDATE` row-locks each picked code; `SKIP LOCKED` makes a concurrent claimer pass over
 *   codes another transaction holds instead of waiting for them, so claimers never queue and never
 *   take the same row. A locked row is re-checked after the lock (`assigned_at is null` is part of
 *   the scan's filter), so a code assigned by a transaction that committed meanwhile is not taken.
 * - The pick is a MATERIALIZED CTE: it runs once. The tempting
 *   `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` lets the planner re-run the
 *   subquery (e.g. as the inner side of a nested loop) and update MORE than n rows.
 * - The update finds each picked row by its ctid (a TID scan, no index needed): the row is locked
 *   by this statement, so nobody can move it meanwhile.
 * - The update sets assigned_at; the unique constraint on assignments.code_id backs it up.
 * With SKIP LOCKED, fewer than `count` rows may come back while codes remain (others hold them
 * locked): callers loop until they have enough or a claim returns nothing.
 *
 * The scan follows codes_claim_idx (pool_key, expires_at, id) WHERE assigned_at IS NULL: equality
 * on pool_key and a range on expires_at give rows already in the wanted order, so LIMIT stops early.
 * Assigned codes leave that partial index; their dead entries are cleaned by (auto)vacuum.
 */
export function claimStatement(p: { poolKey: number; eligibleFrom: Date; count: number; now: Date }) {
  return sql<{ id: number; code: string; expires_at: Date | null }>`
    with picked as materialized (
      select ctid from codes
      where pool_key = ${p.poolKey}
        and assigned_at is null
        and expires_at >= ${p.eligibleFrom}
      order by expires_at, id
      limit ${p.count}
      for update skip locked
    )
    update codes set assigned_at = ${p.now}
    from picked
    where codes.ctid = picked.ctid
    returning codes.id, codes.code, nullif(codes.expires_at, 'infinity') as expires_at`;
}

export async function claimCodes(
  db: Kysely<DB>,
  p: { poolKey: number; eligibleFrom: Date; count: number; now: Date },
): Promise<ClaimedCode[]> {
  const result = await claimStatement(p).execute(db);
  return result.rows
    .map((r) => ({ id: Number(r.id), code: r.code, expiresAt: r.expires_at === null ? null : new Date(r.expires_at) }))
    .sort((a, b) => (a.expiresAt?.getTime() ?? Infinity) - (b.expiresAt?.getTime() ?? Infinity) || a.id - b.id);
}

/**
 * Takes the claimed codes off the pool's counters (unassigned per expiration instant) and adds them
 * to today's assignments, in the claim's transaction. `slot` spreads concurrent writers over
 * several counter rows, so they do not queue on one row lock.
 */
export async function countClaimed(
  db: Kysely<DB>,
  p: { accountId: string; poolKey: number; claimed: { expiresAt: Date | null }[]; assignedReal: number; day: string; slot: number },
): Promise<void> {
  if (p.claimed.length > 0) {
    const byExpiry = new Map<string, number>();
    for (const c of p.claimed) {
      const key = c.expiresAt ? c.expiresAt.toISOString() : 'infinity';
      byExpiry.set(key, (byExpiry.get(key) ?? 0) + 1);
    }
    const expiries = [...byExpiry.keys()];
    const decrements = expiries.map((k) => -byExpiry.get(k)!);
    await sql`
      insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      select ${p.accountId}, ${p.poolKey}, e.expires_at, ${p.slot}, 0, e.delta
      from unnest(${expiries}::timestamptz[], ${decrements}::bigint[]) as e (expires_at, delta)
      on conflict (pool_key, expires_at, slot) do update
        set unassigned = pool_code_counts.unassigned + excluded.unassigned`.execute(db);
  }
  if (p.assignedReal > 0) {
    await sql`
      insert into pool_daily_assignments (account_id, pool_key, day, slot, assigned)
      values (${p.accountId}, ${p.poolKey}, ${p.day}, ${p.slot}, ${p.assignedReal})
      on conflict (pool_key, day, slot) do update
        set assigned = pool_daily_assignments.assigned + excluded.assigned`.execute(db);
  }
}

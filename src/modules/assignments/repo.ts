import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Assignment } from './model.ts';

type Q = Kysely<DB>;

const toAssignment = (poolId: string) => (r: Selectable<DB['assignments']>): Assignment => ({
  id: r.id,
  poolId,
  contactId: r.contact_id,
  idempotencyKey: r.idempotency_key,
  source: r.source,
  code: r.code,
  codeId: r.code_id === null ? null : Number(r.code_id),
  expiresAt: r.expires_at,
  createdAt: r.created_at,
});

/** An assignment as the pool page lists it: `released` (a bounced mail gave the code back), `redeemed` (an order used it), `expired`, else `assigned`. */
export type AssignmentStatus = 'assigned' | 'redeemed' | 'expired' | 'released';

export interface AssignmentListRow extends Assignment {
  email: string;
  status: AssignmentStatus;
}

export interface AssignmentFilter {
  status?: AssignmentStatus | undefined;
  /** A code prefix or an email prefix (case-insensitive). */
  q?: string | undefined;
}

/**
 * A page of a pool's assignments, oldest first (keyset on the id), filtered by status and by a
 * code or email prefix. A live redemption of the assignment's code marks it redeemed: for a unique
 * code by its code id, for a shared code (static row, default code) by the code and the contact.
 */
export async function listAssignments(
  db: Q,
  pool: { key: number; id: string },
  page: { after?: string | undefined; limit: number; now: Date } & AssignmentFilter,
): Promise<AssignmentListRow[]> {
  const redeemed = sql<boolean>`exists (
    select from redemptions r
    where r.rolled_back_at is null and r.pool_key = a.pool_key
      and (r.code_id = a.code_id or (a.code_id is null and r.code = a.code and r.contact_id = a.contact_id)))`;
  const status = sql<AssignmentStatus>`case when a.released_at is not null then 'released' when ${redeemed} then 'redeemed'
    when a.expires_at < ${page.now} then 'expired' else 'assigned' end`;
  let query = db
    .selectFrom('assignments as a')
    .innerJoin('contacts as c', (j) => j.onRef('c.account_id', '=', 'a.account_id').onRef('c.id', '=', 'a.contact_id'))
    .selectAll('a')
    .select('c.email')
    .select(status.as('status'))
    .where('a.pool_key', '=', pool.key)
    .orderBy('a.id')
    .limit(page.limit);
  if (page.after) query = query.where('a.id', '>', page.after);
  if (page.status) query = query.where(sql<boolean>`${status} = ${page.status}`);
  if (page.q) {
    const q = page.q.toLowerCase();
    query = query.where(sql<boolean>`(starts_with(lower(a.code), ${q}) or starts_with(lower(c.email), ${q}))`);
  }
  const rows = await query.execute();
  return rows.map((r) => ({ ...toAssignment(pool.id)(r), email: r.email, status: r.status }));
}

/** One statement flips the flag, so one process among many sends the notice. */
export async function disarm(db: Q, poolKey: number, flag: 'threshold_armed' | 'exhausted_armed'): Promise<boolean> {
  const r = await sql`update pools set ${sql.ref(flag)} = false where key = ${poolKey} and ${sql.ref(flag)}`.execute(db);
  return Number(r.numAffectedRows ?? 0) > 0;
}

export async function rearm(db: Q, poolKey: number, flag: 'threshold_armed' | 'exhausted_armed'): Promise<void> {
  await sql`update pools set ${sql.ref(flag)} = true where key = ${poolKey} and not ${sql.ref(flag)}`.execute(db);
}

/**
 * The pool's notice flags. With `lock`, the pool row is locked (FOR NO KEY UPDATE, the lock the
 * flag updates take anyway) until the check's transaction ends: checks of one pool that have
 * something to do run one after the other, each reading the counts after the previous one
 * committed, so a re-arm decided on counts read before a fire can never follow that fire.
 */
export async function noticeFlags(db: Q, poolKey: number, lock: boolean): Promise<{ threshold_armed: boolean; exhausted_armed: boolean } | undefined> {
  const r = lock
    ? await sql<{ threshold_armed: boolean; exhausted_armed: boolean }>`select threshold_armed, exhausted_armed from pools where key = ${poolKey} for no key update`.execute(db)
    : await sql<{ threshold_armed: boolean; exhausted_armed: boolean }>`select threshold_armed, exhausted_armed from pools where key = ${poolKey}`.execute(db);
  return r.rows[0];
}

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

export interface AssignmentListRow extends Assignment {
  email: string;
}

export async function listAssignments(db: Q, pool: { key: number; id: string }, page: { after?: string | undefined; limit: number }): Promise<AssignmentListRow[]> {
  let query = db
    .selectFrom('assignments as a')
    .innerJoin('contacts as c', (j) => j.onRef('c.account_id', '=', 'a.account_id').onRef('c.id', '=', 'a.contact_id'))
    .selectAll('a')
    .select('c.email')
    .where('a.pool_key', '=', pool.key)
    .orderBy('a.id')
    .limit(page.limit);
  if (page.after) query = query.where('a.id', '>', page.after);
  const rows = await query.execute();
  return rows.map((r) => ({ ...toAssignment(pool.id)(r), email: r.email }));
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

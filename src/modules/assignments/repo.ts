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

export async function findByKeys(db: Q, pool: { key: number; id: string }, keys: string[]): Promise<Assignment[]> {
  if (keys.length === 0) return [];
  // One array parameter, not one parameter per key: batches of 1,000 stay cheap to send and plan.
  const rows = await db
    .selectFrom('assignments')
    .selectAll()
    .where('pool_key', '=', pool.key)
    .where('idempotency_key', '=', sql<string>`any(${keys}::text[])`)
    .execute();
  return rows.map(toAssignment(pool.id));
}

/**
 * Records new assignments, one array per column. A (pool, key) that a racing transaction recorded
 * first is skipped; the caller compares counts, rolls back and answers from the winner's row.
 */
export async function insertAssignments(db: Q, accountId: string, poolKey: number, rows: Assignment[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sql`
    insert into assignments (account_id, id, pool_key, contact_id, idempotency_key, source, code_id, code, expires_at, created_at)
    select ${accountId}, r.id, ${poolKey}, r.contact_id, r.key, r.source, r.code_id, r.code, r.expires_at, r.created_at
    from unnest(${rows.map((a) => a.id)}::text[], ${rows.map((a) => a.contactId)}::text[], ${rows.map((a) => a.idempotencyKey)}::text[],
                ${rows.map((a) => a.source)}::text[], ${rows.map((a) => a.codeId)}::bigint[], ${rows.map((a) => a.code)}::text[],
                ${rows.map((a) => a.expiresAt)}::timestamptz[], ${rows.map((a) => a.createdAt)}::timestamptz[])
      as r (id, contact_id, key, source, code_id, code, expires_at, created_at)
    on conflict (pool_key, idempotency_key) do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

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

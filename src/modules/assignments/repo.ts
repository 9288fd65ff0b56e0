import type { Kysely, Selectable } from 'kysely';
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

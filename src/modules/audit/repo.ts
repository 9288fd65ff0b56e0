import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { AuditQuery } from './model.ts';

type Q = Kysely<DB>;
export type AuditRow = DB['audit_log'];

/** The insert of one entry, compiled, for the unit of work to run inside the change's transaction. */
export const compileInsert = (db: Q, row: AuditRow) => db.insertInto('audit_log').values(row).compile();

/** Newest first (ids are UUIDv7: in creation order); `after` is the last id of the previous page. */
export async function listEntries(
  db: Q,
  accountId: string,
  filter: Omit<AuditQuery, 'cursor' | 'limit'>,
  page: { after?: string | undefined; limit: number },
) {
  let query = db.selectFrom('audit_log').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(page.limit);
  if (page.after) query = query.where('id', '<', page.after);
  if (filter.actorType) query = query.where('actor_type', '=', filter.actorType);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.resourceType) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.since) query = query.where('at', '>=', new Date(filter.since));
  if (filter.until) query = query.where('at', '<', new Date(filter.until));
  return query.execute();
}

/** Retention: entries older than `before`, at most `limit` per call (the job repeats until none). */
export async function pruneBefore(db: Q, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('audit_log')
    .where('at', '<', before)
    // Ids are UUIDs, unique across accounts: a batch by id alone.
    .where('id', 'in', (eb) => eb.selectFrom('audit_log').select('id').where('at', '<', before).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { toField, type FieldGroup, type FieldType } from './model.ts';

type Q = Kysely<DB>;

export async function insertGroup(db: Q, g: { accountId: string; id: string; name: string }): Promise<void> {
  await db.insertInto('field_groups').values({ account_id: g.accountId, id: g.id, name: g.name }).execute();
}

export async function insertField(
  db: Q,
  f: { accountId: string; id: string; groupId: string; name: string; type: FieldType },
): Promise<void> {
  await db.insertInto('fields').values({ account_id: f.accountId, id: f.id, group_id: f.groupId, name: f.name, type: f.type }).execute();
}

/** Groups of the account with their fields, in creation order; `ids` narrows, `after`/`limit` page. */
export async function listGroups(
  db: Q,
  accountId: string,
  options: { ids?: string[]; after?: string | undefined; limit?: number } = {},
): Promise<FieldGroup[]> {
  let query = db.selectFrom('field_groups').select(['id', 'name', 'created_at']).where('account_id', '=', accountId).orderBy('id');
  if (options.ids) query = query.where('id', 'in', options.ids.length ? options.ids : ['']);
  if (options.after) query = query.where('id', '>', options.after);
  if (options.limit) query = query.limit(options.limit);
  const groups = await query.execute();
  if (groups.length === 0) return [];
  const fields = await db
    .selectFrom('fields')
    .select(['id', 'group_id', 'name', 'type'])
    .where('account_id', '=', accountId)
    .where(
      'group_id',
      'in',
      groups.map((g) => g.id),
    )
    .orderBy('id')
    .execute();
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    createdAt: g.created_at,
    fields: fields
      .filter((f) => f.group_id === g.id)
      .map((f) => toField({ id: f.id, groupId: f.group_id, name: f.name, type: f.type }, g.name)),
  }));
}

/** The fields with these ids (or all of a group's), locked FOR UPDATE: a publish naming one (FOR SHARE) waits for the delete. */
export async function lockFields(db: Q, accountId: string, ref: { ids: string[] } | { groupId: string }) {
  let q = db.selectFrom('fields').select(['id', 'group_id', 'name', 'type']).where('account_id', '=', accountId);
  q = 'ids' in ref ? q.where('id', 'in', ref.ids.length ? ref.ids : ['']) : q.where('group_id', '=', ref.groupId);
  return q.orderBy('id').forUpdate().execute();
}

/** Locks these fields FOR SHARE while a publish checks them (a delete waits, or has gone first). */
export async function lockFieldsShared(db: Q, accountId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('fields')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .orderBy('id')
    .forShare()
    .execute();
  return rows.map((r) => r.id);
}

export async function lockGroup(db: Q, accountId: string, groupId: string) {
  return db
    .selectFrom('field_groups')
    .select(['id', 'name'])
    .where('account_id', '=', accountId)
    .where('id', '=', groupId)
    .forUpdate()
    .executeTakeFirst();
}

export async function deleteFields(db: Q, accountId: string, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.deleteFrom('fields').where('account_id', '=', accountId).where('id', 'in', ids).execute();
}

export async function deleteGroup(db: Q, accountId: string, groupId: string): Promise<void> {
  await db.deleteFrom('field_groups').where('account_id', '=', accountId).where('id', '=', groupId).execute();
}

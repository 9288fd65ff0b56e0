import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

type Q = Kysely<DB>;

export * from './contacts.sql.ts';

export interface ContactRow {
  id: string;
  email: string;
  status: 'subscribed' | 'unsubscribed';
}

export async function findContact(db: Q, accountId: string, id: string): Promise<ContactRow | undefined> {
  return db
    .selectFrom('contacts')
    .select(['id', 'email', 'status'])
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------
// Segmentation (migration 0005): field values, upsert, import

export interface ContactRecord {
  id: string;
  email: string;
  status: 'subscribed' | 'unsubscribed';
  fields: Record<string, string | number | boolean>;
  created_at: Date;
  updated_at: Date;
}

const recordColumns = ['id', 'email', 'status', 'fields', 'created_at', 'updated_at'] as const;

export async function findRecord(db: Q, accountId: string, ref: { id: string } | { email: string }): Promise<ContactRecord | undefined> {
  let query = db.selectFrom('contacts').select(recordColumns).where('account_id', '=', accountId);
  query = 'id' in ref ? query.where('id', '=', ref.id) : query.where((eb) => eb.fn('lower', ['email']), '=', ref.email.toLowerCase());
  return (await query.executeTakeFirst()) as ContactRecord | undefined;
}

export async function listRecords(db: Q, accountId: string, p: { after?: string | undefined; limit: number }): Promise<ContactRecord[]> {
  let query = db.selectFrom('contacts').select(recordColumns).where('account_id', '=', accountId).orderBy('id').limit(p.limit);
  if (p.after) query = query.where('id', '>', p.after);
  return (await query.execute()) as ContactRecord[];
}

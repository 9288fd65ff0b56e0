import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

type Q = Kysely<DB>;

export interface ContactRow {
  id: string;
  email: string;
  status: 'subscribed' | 'unsubscribed';
}

export async function findContact(db: Q, accountId: string, id: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').select(['id', 'email', 'status']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function findContactByEmail(db: Q, accountId: string, email: string): Promise<ContactRow | undefined> {
  return db
    .selectFrom('contacts')
    .select(['id', 'email', 'status'])
    .where('account_id', '=', accountId)
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

/** The contact with this email (any case), created if new; safe when two calls race. */
export async function ensureContact(db: Q, accountId: string, email: string, newId: string): Promise<ContactRow> {
  const inserted = await sql<ContactRow>`
    insert into contacts (account_id, id, email) values (${accountId}, ${newId}, ${email})
    on conflict (account_id, lower(email)) do nothing
    returning id, email, status`.execute(db);
  const row = inserted.rows[0] ?? (await findContactByEmail(db, accountId, email));
  if (!row) throw new Error(`contact ${email} neither inserted nor found`);
  return row;
}

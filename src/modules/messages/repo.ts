import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Message, MessageSettings } from './model.ts';

type Q = Kysely<DB>;

const toMessage = (r: Selectable<DB['messages']>): Message => ({
  id: r.id,
  name: r.name,
  fromName: r.from_name,
  fromEmail: r.from_email,
  subject: r.subject,
  html: r.html,
  text: r.text,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const columns = (m: MessageSettings) => ({
  name: m.name,
  from_name: m.fromName,
  from_email: m.fromEmail,
  subject: m.subject,
  html: m.html,
  text: m.text,
});

export async function insertMessage(db: Q, accountId: string, id: string, m: MessageSettings, at: Date): Promise<Message> {
  const row = await db
    .insertInto('messages')
    .values({ account_id: accountId, id, ...columns(m), created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

export async function updateMessage(db: Q, accountId: string, id: string, m: MessageSettings, at: Date): Promise<Message | undefined> {
  const row = await db
    .updateTable('messages')
    .set({ ...columns(m), updated_at: at })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toMessage(row);
}

export async function findMessage(db: Q, accountId: string, id: string): Promise<Message | undefined> {
  const row = await db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return row && toMessage(row);
}

export async function listMessages(db: Q, accountId: string, p: { after?: string | undefined; limit: number }): Promise<Message[]> {
  let query = db.selectFrom('messages').selectAll().where('account_id', '=', accountId).orderBy('id').limit(p.limit);
  if (p.after) query = query.where('id', '>', p.after);
  return (await query.execute()).map(toMessage);
}

/** Every message of an account (templates: a few hundred at most), for the merchant-scope rule on test sends. */
export async function allMessages(db: Q, accountId: string): Promise<Message[]> {
  return (await db.selectFrom('messages').selectAll().where('account_id', '=', accountId).orderBy('id').execute()).map(toMessage);
}

/** The message, locked FOR UPDATE for its delete (a publish reads the messages it sends FOR SHARE). */
export async function lockMessage(db: Q, accountId: string, id: string): Promise<Message | undefined> {
  const row = await db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && toMessage(row);
}

export async function deleteMessage(db: Q, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('messages').where('account_id', '=', accountId).where('id', '=', id).execute();
}

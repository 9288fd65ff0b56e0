import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Role } from '../accounts/permissions.ts';

type Q = Kysely<DB>;

const columns = ['id', 'account_id', 'email', 'role', 'merchant_ids', 'password_hash', 'status', 'created_at', 'updated_at'] as const;

export async function insertUser(db: Q, user: { id: string; accountId: string; email: string; role: Role; merchantIds: string[] | null }) {
  await db
    .insertInto('users')
    .values({ id: user.id, account_id: user.accountId, email: user.email, role: user.role, merchant_ids: user.merchantIds })
    .execute();
}

export type UserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

export const findUser = (db: Q, accountId: string, id: string) =>
  db.selectFrom('users').select(columns).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();

/** Addresses are unique in the installation, whatever their case (users_email_key). */
export const findUserByEmail = (db: Q, email: string) =>
  db
    .selectFrom('users')
    .select(columns)
    .where((eb) => eb.fn('lower', ['email']), '=', email.toLowerCase())
    .executeTakeFirst();

export const findUserById = (db: Q, id: string) => db.selectFrom('users').select(columns).where('id', '=', id).executeTakeFirst();

export async function listUsers(db: Q, accountId: string, page: { after?: string | undefined; limit: number }) {
  let q = db.selectFrom('users').select(columns).where('account_id', '=', accountId).orderBy('id').limit(page.limit);
  if (page.after) q = q.where('id', '>', page.after);
  return q.execute();
}

export async function updateUser(
  db: Q,
  accountId: string,
  id: string,
  change: { role?: Role | undefined; merchantIds?: string[] | null | undefined },
  now: Date,
) {
  return db
    .updateTable('users')
    .set({
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.merchantIds !== undefined ? { merchant_ids: change.merchantIds } : {}),
      updated_at: now,
    })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst();
}

/** Removes the user; their sessions and links go with them (cascade). Audit entries stay (no key). */
export async function deleteUser(db: Q, accountId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('users').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function insertLink(
  db: Q,
  link: { tokenHash: string; userId: string; purpose: 'invite' | 'reset'; createdAt: Date; expiresAt: Date },
) {
  await db
    .insertInto('user_links')
    .values({
      token_hash: link.tokenHash,
      user_id: link.userId,
      purpose: link.purpose,
      created_at: link.createdAt,
      expires_at: link.expiresAt,
    })
    .execute();
}

/** The link with its user, if it is still good (unused, unexpired). Reads only. */
export const findLiveLink = (db: Q, tokenHash: string, now: Date) =>
  db
    .selectFrom('user_links as l')
    .innerJoin('users as u', 'u.id', 'l.user_id')
    .select(['l.user_id', 'l.purpose', 'l.expires_at', 'u.email', 'u.account_id'])
    .where('l.token_hash', '=', tokenHash)
    .where('l.used_at', 'is', null)
    .where('l.expires_at', '>', now)
    .executeTakeFirst();

/**
 * Uses the link: one statement marks it used only if it was unused and unexpired, so of two
 * concurrent uses exactly one gets the row (single use holds under races).
 */
export async function consumeLink(db: Q, tokenHash: string, now: Date) {
  return db
    .updateTable('user_links')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['user_id', 'purpose'])
    .executeTakeFirst();
}

/** A new password: the user is active, and every other open link of theirs stops working. */
export async function setPassword(db: Q, userId: string, hash: string, now: Date) {
  await db.updateTable('users').set({ password_hash: hash, status: 'active', updated_at: now }).where('id', '=', userId).execute();
  await db.updateTable('user_links').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

/** After a password change, the user's other sessions end. */
export async function endSessions(db: Q, userId: string) {
  await db.deleteFrom('console_sessions').where('user_id', '=', userId).execute();
}

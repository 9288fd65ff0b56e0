import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Account, Merchant, Token } from './model.ts';
import type { Role } from './permissions.ts';

type Q = Kysely<DB>;

export async function insertAccount(db: Q, account: { id: string; name: string; timeZone: string }) {
  await db.insertInto('accounts').values({ id: account.id, name: account.name, time_zone: account.timeZone }).execute();
}

export async function hasInstallationAdmin(db: Q): Promise<boolean> {
  const row = await db.selectFrom('tokens').select('id').where('installation_admin', '=', true).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function findAccount(db: Q, id: string): Promise<Account | undefined> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, name: row.name, timeZone: row.time_zone, createdAt: row.created_at };
}

export async function insertToken(
  db: Q,
  token: {
    id: string;
    accountId: string;
    hash: string;
    name: string;
    merchantIds: string[] | null;
    installationAdmin: boolean;
    role?: Role;
  },
) {
  await db
    .insertInto('tokens')
    .values({
      id: token.id,
      account_id: token.accountId,
      token_hash: token.hash,
      name: token.name,
      merchant_ids: token.merchantIds,
      installation_admin: token.installationAdmin,
      role: token.role ?? 'owner',
    })
    .execute();
}

/** lastUsedAt: written at most once a minute per token, whichever process sees it used. */
export async function touchToken(db: Q, id: string, now: Date): Promise<void> {
  await db
    .updateTable('tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]))
    .execute();
}

export async function findTokenByHash(db: Q, hash: string): Promise<Token | undefined> {
  const row = await db
    .selectFrom('tokens')
    .select(['id', 'account_id', 'name', 'role', 'merchant_ids', 'installation_admin'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      accountId: row.account_id,
      name: row.name,
      role: row.role,
      merchantIds: row.merchant_ids,
      installationAdmin: row.installation_admin,
    }
  );
}

const toMerchant = (row: { id: string; name: string; domain: string; created_at: Date }): Merchant => ({
  id: row.id,
  name: row.name,
  domain: row.domain,
  createdAt: row.created_at,
});

export async function insertMerchant(db: Q, accountId: string, merchant: { id: string; name: string; domain: string }) {
  const row = await db
    .insertInto('merchants')
    .values({ account_id: accountId, ...merchant })
    .returning(['id', 'name', 'domain', 'created_at'])
    .executeTakeFirstOrThrow();
  return toMerchant(row);
}

export async function findMerchant(db: Q, accountId: string, id: string): Promise<Merchant | undefined> {
  const row = await db
    .selectFrom('merchants')
    .select(['id', 'name', 'domain', 'created_at'])
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toMerchant(row);
}

export async function listMerchants(
  db: Q,
  accountId: string,
  page: { after?: string | undefined; limit: number; only: string[] | null },
): Promise<Merchant[]> {
  let query = db
    .selectFrom('merchants')
    .select(['id', 'name', 'domain', 'created_at'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  if (page.only) query = page.only.length ? query.where('id', 'in', page.only) : query.where((eb) => eb.val(false));
  return (await query.execute()).map(toMerchant);
}

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  merchantIds: string[] | null;
  installationAdmin: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export async function listTokens(db: Q, accountId: string, page: { after?: string | undefined; limit: number }): Promise<TokenRow[]> {
  let query = db
    .selectFrom('tokens')
    .select(['id', 'name', 'role', 'merchant_ids', 'installation_admin', 'created_at', 'last_used_at'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  return (await query.execute()).map((row) => ({
    id: row.id,
    name: row.name,
    role: row.role,
    merchantIds: row.merchant_ids,
    installationAdmin: row.installation_admin,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }));
}

/** Removes the token (its console sessions go with it, by foreign key); false when there was none. */
export async function deleteToken(db: Q, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('tokens').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

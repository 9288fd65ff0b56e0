import { sql, type Kysely } from 'kysely';

/**
 * The hot tables lose checks that cost more than they protect (measured by `npm run bench`):
 * - `assignments_pool_key_fkey`: every assignment insert looked its pool up again (the pool was
 *   just read and locked by the claim); `codes` has no such key for the same reason. Pools are
 *   never deleted.
 * - `assignments_id_key`: a second unique index on ids the primary key (account_id, id) already
 *   covers; nothing looks assignments up by id alone.
 * - `contacts_account_id_fkey`: about a third of a contact import's COPY time; accounts are never
 *   deleted and every insert comes from an authenticated account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table assignments drop constraint assignments_pool_key_fkey;
    alter table assignments drop constraint assignments_id_key;
    alter table contacts drop constraint contacts_account_id_fkey;
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { recordset } from '../../platform/db/bulk.ts';
import type { ContactRecord, ContactRow } from './repo.ts';

const recordColumns = ['id', 'email', 'status', 'fields', 'created_at', 'updated_at'] as const;

/*
 * The contacts' hot statements: find-or-create by email (event intake, imports) and the import's
 * staging path. Idempotency and races rest on the unique index contacts_email_key (account_id,
 * lower(email)): `on conflict do nothing / do update`, never a read-then-write. Locks: the
 * inserted or updated contact rows only.
 */

type Q = Kysely<DB>;

export async function findContactByEmail(db: Q, accountId: string, email: string): Promise<ContactRow | undefined> {
  return db
    .selectFrom('contacts')
    .select(['id', 'email', 'status'])
    .where('account_id', '=', accountId)
    .where((eb) => eb.fn('lower', ['email']), '=', email.toLowerCase())
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

/** Many contacts by id, in one query (rendering a message for a batch). */
export async function findRecords(db: Q, accountId: string, ids: readonly string[]): Promise<ContactRecord[]> {
  if (ids.length === 0) return [];
  return (await db
    .selectFrom('contacts')
    .select(recordColumns)
    .where('account_id', '=', accountId)
    .where(sql<boolean>`id = any(${[...ids]}::text[])`)
    .execute()) as ContactRecord[];
}

/**
 * Insert or update by email (any case), in one statement: values are merged into the stored
 * ones (a null clears one), the status changes only when given. Safe when two calls race.
 */
export async function upsertContact(
  db: Q,
  c: { accountId: string; newId: string; email: string; status: 'subscribed' | 'unsubscribed' | null; values: Record<string, unknown> },
): Promise<ContactRecord & { created: boolean }> {
  const values = JSON.stringify(c.values);
  const result = await sql<ContactRecord & { created: boolean }>`
    insert into contacts (account_id, id, email, status, fields)
    values (${c.accountId}, ${c.newId}, ${c.email}, coalesce(${c.status}::text, 'subscribed'), jsonb_strip_nulls(${values}::jsonb))
    on conflict (account_id, lower(email)) do update
      set status = coalesce(${c.status}::text, contacts.status),
          fields = jsonb_strip_nulls(contacts.fields || ${values}::jsonb),
          updated_at = now()
    returning id, email, status, fields, created_at, updated_at, (xmax = 0) as created`.execute(db);
  return result.rows[0]!;
}

/** The import's fast path: rows straight into contacts (fails whole on an email already there). */
export const COPY_INTO_CONTACTS = 'copy contacts (account_id, id, email, status, fields) from stdin';

export async function createImportStaging(db: Q): Promise<void> {
  await sql`create temp table contact_import (id text, email text, status text, fields jsonb) on commit drop`.execute(db);
}

export const COPY_INTO_IMPORT_STAGING = 'copy contact_import (id, email, status, fields) from stdin';

/**
 * The slow path, for a chunk with emails already in the account: upserts the staged rows (one
 * per email: the chunk is merged by email beforehand), merging field values; rows without a status
 * keep the stored one. Returns how many contacts were created and how many updated.
 */
export async function upsertStaged(db: Q, accountId: string): Promise<{ created: number; updated: number }> {
  const result = await sql<{ created: number; total: number }>`
    with given as (
      insert into contacts (account_id, id, email, status, fields)
      select ${accountId}, id, email, status, fields from contact_import where status is not null
      on conflict (account_id, lower(email)) do update
        set status = excluded.status, fields = contacts.fields || excluded.fields, updated_at = now()
      returning (xmax = 0) as created
    ), kept as (
      insert into contacts (account_id, id, email, status, fields)
      select ${accountId}, id, email, 'subscribed', fields from contact_import where status is null
      on conflict (account_id, lower(email)) do update
        set fields = contacts.fields || excluded.fields, updated_at = now()
      returning (xmax = 0) as created
    ), outcome as (select created from given union all select created from kept)
    select count(*) filter (where created) as created, count(*) as total from outcome`.execute(db);
  const row = result.rows[0]!;
  return { created: Number(row.created), updated: Number(row.total) - Number(row.created) };
}

export async function truncateImportStaging(db: Q): Promise<void> {
  await sql`truncate contact_import`.execute(db);
}

export const savepoint = (db: Q) => sql`savepoint contact_chunk`.execute(db);

export const releaseSavepoint = (db: Q) => sql`release savepoint contact_chunk`.execute(db);

export const rollbackToSavepoint = (db: Q) => sql`rollback to savepoint contact_chunk`.execute(db);

/**
 * Contacts by email (any case), created where new, in two statements; safe when calls race. The
 * look-up is `lower(email) = any(array)` so that it goes through contacts_email_key (a join
 * against the JSON rows was planned as a scan of all contacts: batch intake slowed as they grew).
 */
export async function ensureContacts(db: Q, accountId: string, emails: { id: string; email: string }[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (emails.length === 0) return ids;
  const unique = [...new Map(emails.map((e) => [e.email.toLowerCase(), e])).values()];
  const keys = unique.map((e) => e.email.toLowerCase());
  // One statement: the contacts this statement's snapshot holds, and the ones it inserts.
  const rows = await sql<{ id: string; key: string }>`
    with made as (
      insert into contacts (account_id, id, email)
      select ${accountId}, x.id, x.email from ${recordset(unique, { id: 'text', email: 'text' }, 'x')}
      on conflict (account_id, lower(email)) do nothing
      returning id, lower(email) as key
    )
    select id, key from made
    union all
    select id, lower(email) from contacts where account_id = ${accountId} and lower(email) = any(${keys}::text[])`.execute(db);
  for (const r of rows.rows) ids.set(r.key, r.id);
  // Inserted by a racing transaction after this statement's snapshot (then skipped by it): read again.
  const missing = keys.filter((k) => !ids.has(k));
  if (missing.length > 0) {
    const late = await sql<{ id: string; key: string }>`
      select id, lower(email) as key from contacts where account_id = ${accountId} and lower(email) = any(${missing}::text[])`.execute(db);
    for (const r of late.rows) ids.set(r.key, r.id);
  }
  return ids;
}

/**
 * A deleted field's values leave every contact, in one statement (set-wise, not per contact).
 * Locks: the contact rows that hold a value, in the field delete's transaction (after the field row).
 * Idempotent: a second run finds no contact holding the keys. Invariant: no contact keeps a value
 * under the id of a field that no longer exists.
 */
export async function removeFieldValues(db: Q, accountId: string, fieldIds: readonly string[]): Promise<number> {
  if (fieldIds.length === 0) return 0;
  const result = await sql`
    update contacts set fields = fields - ${[...fieldIds]}::text[], updated_at = now()
    where account_id = ${accountId} and fields ?| ${[...fieldIds]}::text[]`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

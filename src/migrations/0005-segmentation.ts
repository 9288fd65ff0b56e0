import { sql, type Kysely } from 'kysely';

/**
 * Segmentation, messages and events.
 *
 * Field values live in one jsonb column on contacts, keyed by field id (not name: renaming a
 * field or group never rewrites contacts). Reading a contact for a message is one row; the
 * conductor's "save code + expiration into the contact's fields" for a batch is one
 * `update contacts … set fields = fields || …` per contact row, no extra rows or indexes to
 * maintain; an import COPYs one row per contact. Values are JSON: text → string, number →
 * number, boolean → boolean, date → 'YYYY-MM-DD' (a calendar day) or an ISO-8601 UTC instant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table field_groups (
      account_id text not null references accounts (id),
      id text not null,
      name text not null,
      created_at timestamptz not null default now(),
      constraint field_groups_pkey primary key (account_id, id),
      constraint field_groups_id_key unique (id),
      constraint field_groups_name_key unique (account_id, name)
    );

    create table fields (
      account_id text not null,
      id text not null,
      group_id text not null,
      name text not null,
      type text not null,
      created_at timestamptz not null default now(),
      constraint fields_pkey primary key (account_id, id),
      constraint fields_id_key unique (id),
      constraint fields_name_key unique (account_id, group_id, name),
      constraint fields_group_fkey foreign key (account_id, group_id) references field_groups (account_id, id),
      constraint fields_type_check check (type in ('text', 'date', 'number', 'boolean'))
    );

    alter table contacts add column fields jsonb not null default '{}';

    create table events (
      account_id text not null references accounts (id),
      id text not null,
      contact_id text not null,
      type text not null,
      properties jsonb not null default '{}',
      occurred_at timestamptz not null,
      idempotency_key text,
      -- What the conductor answered (conversation ids), repeated for a replayed key.
      outcome jsonb not null default '{"enrolled": [], "exited": []}',
      created_at timestamptz not null,
      constraint events_pkey primary key (account_id, id),
      constraint events_id_key unique (id),
      -- A key seen once is never recorded again (NULLs: events sent without a key).
      constraint events_idempotency_key unique (account_id, idempotency_key)
    );
    create index events_contact_idx on events (account_id, contact_id, occurred_at);

    create table messages (
      account_id text not null references accounts (id),
      id text not null,
      name text not null,
      from_name text not null,
      from_email text not null,
      subject text not null,
      html text not null,
      text text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      constraint messages_pkey primary key (account_id, id),
      constraint messages_id_key unique (id)
    );
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Contacts (the recipients; field values come with segmentation) and assignments: every code
 * handed out, once per (pool, idempotency key), and at most once per code.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table contacts (
      account_id text not null references accounts (id),
      id text not null,
      email text not null,
      status text not null default 'subscribed',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint contacts_pkey primary key (account_id, id),
      constraint contacts_id_key unique (id),
      constraint contacts_status_check check (status in ('subscribed', 'unsubscribed'))
    );
    create unique index contacts_email_key on contacts (account_id, lower(email));

    create table assignments (
      account_id text not null,
      id text not null,
      pool_key bigint not null references pools (key),
      contact_id text not null,
      idempotency_key text not null,
      source text not null,
      code_id bigint,
      code text not null,
      expires_at timestamptz,
      created_at timestamptz not null,
      constraint assignments_pkey primary key (account_id, id),
      constraint assignments_id_key unique (id),
      -- The same (pool, key) always answers the same assignment: retries never burn a code.
      constraint assignments_idempotency_key unique (pool_key, idempotency_key),
      -- A belt to the claim's braces: one code backs one assignment, whatever happens.
      constraint assignments_code_id_key unique (code_id),
      constraint assignments_source_check check (source in ('unique', 'static', 'default'))
    );
    create index assignments_pool_idx on assignments (pool_key, id);
    create index assignments_contact_idx on assignments (account_id, contact_id);

    -- Threshold notices: one per crossing, re-armed once available rises above the threshold;
    -- one exhausted notice, re-armed once codes are available again.
    alter table pools add column threshold_armed boolean not null default true;
    alter table pools add column exhausted_armed boolean not null default true;
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Accounts (tenants), their merchants, and API tokens. Tenant tables carry account_id and lead
 * their keys with it, so that a sharded PostgreSQL (Citus) can distribute them by account.
 * Tokens are looked up by hash before the account is known: a small reference table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table accounts (
      id text primary key,
      name text not null,
      time_zone text not null default 'UTC',
      created_at timestamptz not null default now()
    );

    create table merchants (
      account_id text not null references accounts (id),
      id text not null,
      name text not null,
      domain text not null,
      created_at timestamptz not null default now(),
      constraint merchants_pkey primary key (account_id, id),
      constraint merchants_id_key unique (id)
    );

    create table tokens (
      id text primary key,
      account_id text not null references accounts (id),
      token_hash text not null,
      name text not null,
      merchant_ids text[],
      installation_admin boolean not null default false,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      constraint tokens_token_hash_key unique (token_hash)
    );
    create index tokens_account_id_idx on tokens (account_id);
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Coupon pools, their codes, static rows, uploads, and the counters the pool list reads.
 *
 * codes: one row per unique code. `expires_at` is 'infinity' for a code that never expires, so
 * "soonest first, no expiration last" is plain index order. Codes reference their pool by a
 * compact bigint `pool_key` (10M codes in two indexes: 8 bytes beat a 36-character id).
 *
 * pool_code_counts: the pool list must answer in milliseconds with 10M codes, and `available`
 * moves with the clock. So unassigned codes are counted per (pool, exact expiration instant),
 * updated in the same transaction as uploads and assignments; counts for any `now` are sums over
 * these few rows. `slot` stripes the counter rows: concurrent assignments decrement different
 * slots instead of queueing on one row lock. Sums over slots are exact; a single slot may go
 * negative.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table pools (
      account_id text not null references accounts (id),
      id text not null,
      key bigint generated always as identity,
      merchant_id text not null,
      name text not null,
      type text not null,
      expiration_cutoff_days integer not null default 0,
      active boolean not null default true,
      default_code text,
      default_code_expires_at timestamptz,
      threshold integer,
      notification_emails text[] not null default '{}',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint pools_pkey primary key (account_id, id),
      constraint pools_id_key unique (id),
      constraint pools_key_key unique (key),
      constraint pools_merchant_fkey foreign key (account_id, merchant_id) references merchants (account_id, id),
      constraint pools_type_check check (type in ('unique', 'static')),
      constraint pools_cutoff_check check (expiration_cutoff_days >= 0),
      constraint pools_threshold_check check (threshold is null or threshold >= 0)
    );
    create unique index pools_name_key on pools (account_id, merchant_id, lower(name));

    -- Keyed by (pool_key, code): the key is the "no duplicate code in a pool" rule itself, and
    -- there is no other unique index to maintain per code. No foreign key to pools either: a
    -- per-row FK check more than doubled upload time, pools are never deleted, and every writer
    -- locks its pool row first. Claims address a locked row by ctid, so id needs no index.
    create table codes (
      id bigint generated always as identity (cache 1000),
      account_id text not null,
      pool_key bigint not null,
      code text not null,
      expires_at timestamptz not null,
      assigned_at timestamptz,
      constraint codes_pkey primary key (pool_key, code)
    );
    -- The claim order (see assignments/claim.ts): eligible unassigned codes, soonest expiration
    -- first, then upload order. Partial, so assigned codes leave the index.
    create index codes_claim_idx on codes (pool_key, expires_at, id) where assigned_at is null;

    create table pool_code_counts (
      account_id text not null,
      pool_key bigint not null references pools (key),
      expires_at timestamptz not null,
      slot smallint not null default 0,
      codes bigint not null default 0,
      unassigned bigint not null default 0,
      constraint pool_code_counts_pkey primary key (pool_key, expires_at, slot)
    );

    -- Assignments per pool and day (UTC), for the run-out forecast at the last 7 days' rate.
    create table pool_daily_assignments (
      account_id text not null,
      pool_key bigint not null references pools (key),
      day date not null,
      slot smallint not null default 0,
      assigned bigint not null default 0,
      constraint pool_daily_assignments_pkey primary key (pool_key, day, slot)
    );

    create table static_codes (
      account_id text not null,
      pool_key bigint not null references pools (key),
      position integer not null,
      code text not null,
      expires_at timestamptz,
      days_after_distribution integer,
      begin_at timestamptz not null,
      end_at timestamptz not null,
      constraint static_codes_pkey primary key (pool_key, position)
    );

    create table uploads (
      account_id text not null,
      id text not null,
      pool_key bigint not null references pools (key),
      source text not null,
      file_name text,
      token_id text,
      options jsonb not null,
      status text not null,
      lines bigint not null default 0,
      imported bigint not null default 0,
      duplicates bigint not null default 0,
      rejected bigint not null default 0,
      error_count bigint not null default 0,
      errors jsonb not null default '[]',
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      constraint uploads_pkey primary key (account_id, id),
      constraint uploads_status_check check (status in ('imported', 'rejected', 'failed'))
    );
    create index uploads_pool_idx on uploads (pool_key, created_at desc);
  `.execute(db);
}

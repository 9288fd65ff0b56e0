import { sql, type Kysely } from 'kysely';

/**
 * Redemptions: an order used a code. Two partial unique indexes are the whole of the
 * "exactly once" rule (see redemptions/redemptions.sql.ts), rolled-back rows leave both:
 * - redemptions_code_live_key: a unique code (code_id) has at most one live redemption;
 * - redemptions_order_key: one live redemption per (merchant, code, order), so a retried order
 *   answers its first redemption, and a shared code (static row, default code) counts each order once.
 * No foreign keys, like the other hot tables (migration 0008): pools and codes are never deleted
 * and every writer resolved its code in the same request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table redemptions (
      account_id text not null,
      id text not null,
      merchant_id text not null,
      pool_key bigint not null,
      code text not null,
      code_id bigint,
      kind text not null,
      contact_id text,
      email text,
      order_id text not null,
      amount numeric(14, 2),
      currency text,
      source text not null,
      redeemed_at timestamptz not null,
      created_at timestamptz not null,
      rolled_back_at timestamptz,
      constraint redemptions_pkey primary key (account_id, id),
      constraint redemptions_kind_check check (kind in ('unique', 'static', 'default')),
      constraint redemptions_source_check check (source in ('api', 'file', 'event', 'shopify'))
    );
    create unique index redemptions_code_live_key on redemptions (code_id) where rolled_back_at is null;
    create unique index redemptions_order_key on redemptions (account_id, merchant_id, code, order_id) where rolled_back_at is null;
    create index redemptions_merchant_idx on redemptions (account_id, merchant_id, id);
    create index redemptions_pool_idx on redemptions (pool_key, redeemed_at);
  `.execute(db);
}

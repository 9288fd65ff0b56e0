import { sql, type Kysely } from 'kysely';

/**
 * The pools' daily history (reports): one row per pool and calendar day in the account's
 * time zone, written once by the periodic job after that day ended (reports/reports.sql.ts):
 * the assignments and the redemptions of the day, and the codes available at its end. The primary
 * key (pool_key, day) with `on conflict do nothing` makes the row exactly-once, whichever process
 * writes it first; it is never updated afterwards (recorded, not reconstructed on each read).
 * The index on assignments (pool_key, created_at) lets the job count one day's assignments of a
 * pool without walking all of them (redemptions already have (pool_key, redeemed_at)).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table pool_daily_history (
      account_id text not null,
      pool_key bigint not null,
      day date not null,
      assigned bigint not null,
      redeemed bigint not null,
      available bigint not null,
      recorded_at timestamptz not null,
      constraint pool_daily_history_pkey primary key (pool_key, day)
    );
    create index pool_daily_history_account_idx on pool_daily_history (account_id, day);
    create index assignments_pool_created_idx on assignments (pool_key, created_at);
  `.execute(db);
}

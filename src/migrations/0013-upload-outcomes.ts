import { sql, type Kysely } from 'kysely';

/**
 * Uploads keep the whole of their report (issue 11):
 * - status `cancelled`: the client went away mid-file (the console's Cancel aborts the request);
 *   the transaction rolled back and nothing of the file stays in the pool;
 * - `blank`: blank lines read, so lines = imported + duplicates + rejected (invalid) + blank;
 * - `already_expired`: imported codes already past their expiration date when they went in.
 * Uploads recorded before this migration have 0 in both (not counted then).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table uploads drop constraint uploads_status_check;
    alter table uploads add constraint uploads_status_check check (status in ('imported', 'rejected', 'failed', 'cancelled'));
    alter table uploads add column blank bigint not null default 0;
    alter table uploads add column already_expired bigint not null default 0;
  `.execute(db);
}

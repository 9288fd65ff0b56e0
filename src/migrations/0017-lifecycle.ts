import { sql, type Kysely } from 'kysely';

/**
 * Data lifecycle (issue 19, items 1–3):
 * - uploads: status `undone` (its unassigned codes were removed by `DELETE /v1/uploads/{id}`), when,
 *   and what the undo did: `removed` codes, `kept_assigned` (assigned or redeemed, they stay);
 * - pools.archived_at: an archived pool distributes nothing, takes no codes, is listed apart;
 * - conversations.archived_at: an archived conversation enrolls nobody (runs in progress finish on
 *   their version) and is listed apart.
 * Nullable columns without default: no table rewrite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table uploads drop constraint uploads_status_check;
    alter table uploads add constraint uploads_status_check check (status in ('imported', 'rejected', 'failed', 'cancelled', 'undone'));
    alter table uploads add column undone_at timestamptz;
    alter table uploads add column removed bigint;
    alter table uploads add column kept_assigned bigint;
    alter table pools add column archived_at timestamptz;
    alter table conversations add column archived_at timestamptz;
  `.execute(db);
}

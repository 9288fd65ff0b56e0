import { sql, type Kysely } from 'kysely';

/**
 * Branches and waits (issue 17; docs/ARCHITECTURE.md, "Branches and waits"):
 * - enrollments.step_path: the run's place in its version's tree (`steps.2.branches.0.steps.1`);
 *   null in runs written before (their place is `steps.<step_index>`); step_index stays the
 *   top-level step;
 * - enrollments.waiting_for / wait_until / received_at: a run at a waitForEvent step waits for that
 *   event type until wait_until (also its next_due_at: timeouts go through the due index); the
 *   event's transaction sets received_at and makes the run due now. `enrollments_waits_idx` finds the waiting runs of (contact, event type);
 * - enrollments.trigger_properties: the trigger event's properties, which split conditions read;
 * - conductor_settings: an account's frequency cap (marketing mails per contact per days).
 * Nullable columns without default (and a constant default): no table rewrite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table enrollments add column step_path text;
    alter table enrollments add column waiting_for text;
    alter table enrollments add column received_at timestamptz;
    alter table enrollments add column wait_until timestamptz;
    alter table enrollments add column trigger_properties jsonb;
    create index enrollments_waits_idx on enrollments (account_id, contact_id, waiting_for) where waiting_for is not null;
    create table conductor_settings (
      account_id text primary key references accounts (id),
      frequency_cap jsonb,
      updated_at timestamptz not null
    );
  `.execute(db);
}

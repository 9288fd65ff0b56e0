import { sql, type Kysely } from 'kysely';

/**
 * Mail like a real sender:
 * - installation_settings: values the installation keeps for itself (the generated SECRET_KEY).
 * - suppressions: per account, by lower-cased address; a suppressed address gets no marketing mail.
 * - outbox: the mail's extra headers (List-Unsubscribe), kind `test`.
 * - assignments: `released_at`, set once when the code a bounced mail carried went back to its pool
 *   (code_id is cleared with it, so the code may back a new assignment).
 * - pools: `release_undelivered` (default true).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table installation_settings (
      key text primary key,
      value text not null,
      created_at timestamptz not null default now()
    );

    create table suppressions (
      account_id text not null references accounts (id),
      email text not null,
      reason text not null,
      detail text,
      created_at timestamptz not null,
      constraint suppressions_pkey primary key (account_id, email),
      constraint suppressions_email_lower_check check (email = lower(email)),
      constraint suppressions_reason_check check (reason in ('unsubscribed', 'bounced', 'complained', 'manual'))
    );

    alter table outbox add column headers jsonb;
    alter table outbox drop constraint outbox_kind_check;
    alter table outbox add constraint outbox_kind_check check (kind in ('message', 'notification', 'test'));

    alter table assignments add column released_at timestamptz;

    alter table pools add column release_undelivered boolean not null default true;
  `.execute(db);
}

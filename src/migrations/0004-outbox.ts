import { sql, type Kysely } from 'kysely';

/**
 * The outbox: every mail, messages and notifications alike, is a row written in the same
 * transaction as the change that calls for it. With the `outbox` transport the row is the mail
 * (kept, like a local mail catcher); with SMTP a sender delivers due rows, with retries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table outbox (
      account_id text not null references accounts (id),
      id text not null,
      merchant_id text,
      kind text not null,
      to_email text not null,
      from_name text not null,
      from_email text not null,
      subject text not null,
      html text not null,
      text text,
      -- Chosen when the row is written and sent with every attempt: a retry after a crash
      -- between SMTP's answer and our update carries the same Message-ID, so it can be recognised.
      message_id text not null,
      status text not null,
      transport text not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_error text,
      created_at timestamptz not null,
      sent_at timestamptz,
      constraint outbox_pkey primary key (account_id, id),
      constraint outbox_id_key unique (id),
      constraint outbox_kind_check check (kind in ('message', 'notification')),
      constraint outbox_status_check check (status in ('queued', 'sent', 'failed'))
    );
    -- The sender's claim: due queued mail, oldest due first.
    create index outbox_due_idx on outbox (next_attempt_at) where status = 'queued';
    create index outbox_list_idx on outbox (account_id, id);
    create index outbox_to_idx on outbox (account_id, lower(to_email), id);
  `.execute(db);
}

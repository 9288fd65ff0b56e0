import { sql, type Kysely } from 'kysely';

/**
 * Team access (issue 18): tokens gain a role; users (invited by email, with a scrypt
 * password hash) sign in to the console; one-time links (invitation, password reset) are stored by
 * hash like tokens; a console session belongs to a token or to a user (removing either ends it, by
 * cascade); the audit log keeps who changed what (kept when its actor is removed: no foreign key).
 * Existing tokens become `owner`: they could do everything before. Mail of kind `access` carries
 * those links (shown in the outbox to owners only).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table outbox drop constraint outbox_kind_check;
    alter table outbox add constraint outbox_kind_check check (kind in ('message', 'notification', 'test', 'access'));

    alter table tokens add column role text not null default 'owner'
      constraint tokens_role_check check (role in ('owner', 'admin', 'marketer', 'analyst'));

    create table users (
      id text primary key,
      account_id text not null references accounts (id),
      email text not null,
      role text not null constraint users_role_check check (role in ('owner', 'admin', 'marketer', 'analyst')),
      merchant_ids text[],
      password_hash text,
      status text not null default 'invited' constraint users_status_check check (status in ('invited', 'active')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    -- One person, one sign-in: an address is unique in the installation (sign-in names no account).
    create unique index users_email_key on users (lower(email));
    create index users_account_id_idx on users (account_id, id);

    create table user_links (
      token_hash text primary key,
      user_id text not null references users (id) on delete cascade,
      purpose text not null constraint user_links_purpose_check check (purpose in ('invite', 'reset')),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index user_links_user_id_idx on user_links (user_id);

    alter table console_sessions alter column token_id drop not null;
    alter table console_sessions add column user_id text references users (id) on delete cascade;
    alter table console_sessions add constraint console_sessions_owner_check check ((token_id is null) <> (user_id is null));
    create index console_sessions_user_id_idx on console_sessions (user_id);

    create table audit_log (
      account_id text not null references accounts (id),
      id text not null,
      at timestamptz not null,
      actor_type text not null,
      actor_id text not null,
      actor_name text not null,
      action text not null,
      route text not null,
      resource_type text not null,
      resource_id text,
      summary text not null,
      primary key (account_id, id)
    );
    create index audit_log_at_idx on audit_log (account_id, at desc, id desc);
    create index audit_log_prune_idx on audit_log (at);
  `.execute(db);
}

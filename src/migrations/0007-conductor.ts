import { sql, type Kysely } from 'kysely';

/**
 * Conversations: a draft document, frozen published versions, one enrollment (run) per
 * contact and start, and one step run per (enrollment, step), whose primary key makes a retried
 * batch unable to produce a second effect.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table conversations (
      account_id text not null references accounts (id),
      id text not null,
      name text not null,
      status text not null default 'draft',
      trigger_event text not null,
      draft jsonb not null,
      live_version integer,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      constraint conversations_pkey primary key (account_id, id),
      constraint conversations_id_key unique (id),
      constraint conversations_status_check check (status in ('draft', 'live', 'paused'))
    );
    create unique index conversations_name_key on conversations (account_id, lower(name));

    create table conversation_versions (
      account_id text not null,
      conversation_id text not null references conversations (id),
      version integer not null,
      document jsonb not null,
      -- Denormalised from the document so that events find the conversations they start or end.
      trigger_event text not null,
      exit_events text[] not null,
      published_at timestamptz not null,
      constraint conversation_versions_pkey primary key (conversation_id, version)
    );

    create table enrollments (
      account_id text not null,
      id text not null,
      conversation_id text not null references conversations (id),
      version integer not null,
      contact_id text not null,
      status text not null default 'active',
      step_index integer not null default 0,
      next_due_at timestamptz not null,
      exit_reason text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      ended_at timestamptz,
      constraint enrollments_pkey primary key (account_id, id),
      constraint enrollments_status_check check (status in ('active', 'completed', 'exited'))
    );
    -- At most one active run per contact and conversation, whatever the races between events.
    create unique index enrollments_one_active on enrollments (conversation_id, contact_id) where status = 'active';
    -- The engine's claim: active runs, soonest due first.
    create index enrollments_due_idx on enrollments (next_due_at) where status = 'active';
    create index enrollments_conversation_idx on enrollments (conversation_id, id);
    create index enrollments_contact_idx on enrollments (account_id, contact_id);

    create table step_runs (
      account_id text not null,
      enrollment_id text not null,
      step_id text not null,
      conversation_id text not null,
      outcome text not null,
      at timestamptz not null,
      code text,
      expires_at timestamptz,
      mail_id text,
      detail text,
      -- One effect per step of a run: a batch retried after a crash cannot record (or do) it twice.
      constraint step_runs_pkey primary key (enrollment_id, step_id)
    );
    create index step_runs_conversation_idx on step_runs (conversation_id, step_id);
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Integrations (issue 14).
 * - pools.expiry_reminder_days: the reminder setting; expiry_reminders: one row per assignment that
 *   got its `coupon_expiring` event — its primary key is the "once per assignment" (reminders/reminders.sql.ts).
 *   assignments_expiry_idx serves the periodic job's range scan per pool (unique codes, not released).
 * - shopify_integrations: the merchant's webhook secret, sealed (AES-256-GCM under SECRET_KEY);
 *   shopify_deliveries: every delivery that passed the signature, unique per X-Shopify-Webhook-Id.
 * - webhooks, webhook_queue (one row per subscribed webhook and event, written in the transaction
 *   of the cause; claimed with a lease and a fencing token like the outbox), webhook_attempts (each
 *   POST with its status and latency).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table pools add column expiry_reminder_days integer;
    alter table pools add constraint pools_expiry_reminder_days_check check (expiry_reminder_days is null or expiry_reminder_days between 1 and 3650);
    create index assignments_expiry_idx on assignments (pool_key, expires_at) where source = 'unique' and released_at is null;
    create table expiry_reminders (
      account_id text not null,
      assignment_id text not null,
      created_at timestamptz not null,
      constraint expiry_reminders_pkey primary key (account_id, assignment_id)
    );

    create table shopify_integrations (
      account_id text not null,
      merchant_id text not null,
      secret_sealed text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      constraint shopify_integrations_pkey primary key (account_id, merchant_id)
    );
    create unique index shopify_integrations_merchant_key on shopify_integrations (merchant_id);
    create table shopify_deliveries (
      account_id text not null,
      merchant_id text not null,
      id text not null,
      webhook_id text not null,
      topic text not null,
      result text not null,
      order_id text,
      detail jsonb not null default '{}'::jsonb,
      received_at timestamptz not null,
      constraint shopify_deliveries_pkey primary key (account_id, id),
      constraint shopify_deliveries_result_check check (result in ('processed', 'duplicate', 'ignored', 'failed'))
    );
    create unique index shopify_deliveries_webhook_key on shopify_deliveries (account_id, merchant_id, webhook_id);
    create index shopify_deliveries_recent_idx on shopify_deliveries (account_id, merchant_id, id);

    create table webhooks (
      account_id text not null,
      id text not null,
      url text not null,
      events text[] not null,
      secret_sealed text not null,
      created_at timestamptz not null,
      constraint webhooks_pkey primary key (account_id, id)
    );
    create table webhook_queue (
      account_id text not null,
      webhook_id text not null,
      event_id text not null,
      type text not null,
      payload jsonb not null,
      created_at timestamptz not null,
      status text not null default 'queued',
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      lease_token text,
      last_error text,
      delivered_at timestamptz,
      constraint webhook_queue_pkey primary key (webhook_id, event_id),
      constraint webhook_queue_status_check check (status in ('queued', 'delivered', 'failed'))
    );
    create index webhook_queue_due_idx on webhook_queue (next_attempt_at, webhook_id) where status = 'queued';
    create table webhook_attempts (
      account_id text not null,
      webhook_id text not null,
      id text not null,
      at timestamptz not null,
      status_code integer,
      latency_ms integer not null,
      event_ids text[] not null,
      outcome text not null,
      error text,
      constraint webhook_attempts_pkey primary key (webhook_id, id),
      constraint webhook_attempts_outcome_check check (outcome in ('delivered', 'retrying', 'failed'))
    );
  `.execute(db);
}

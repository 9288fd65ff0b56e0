import type { Generated } from 'kysely';
import type { Database } from './platform/db/database.ts';

/** The tables, as Kysely sees them. Each area's repo.ts is the only code that touches its own. */
export interface DB {
  accounts: {
    id: string;
    name: string;
    time_zone: Generated<string>;
    created_at: Generated<Date>;
  };
  merchants: {
    account_id: string;
    id: string;
    name: string;
    domain: string;
    created_at: Generated<Date>;
  };
  tokens: {
    id: string;
    account_id: string;
    token_hash: string;
    name: string;
    merchant_ids: string[] | null;
    installation_admin: Generated<boolean>;
    created_at: Generated<Date>;
    last_used_at: Date | null;
    /** Migration 0012 (team access). */
    role: Generated<'owner' | 'admin' | 'marketer' | 'analyst'>;
  };
  // team access (migration 0012)
  users: {
    id: string;
    account_id: string;
    email: string;
    role: 'owner' | 'admin' | 'marketer' | 'analyst';
    merchant_ids: string[] | null;
    password_hash: string | null;
    status: Generated<'invited' | 'active'>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  user_links: {
    token_hash: string;
    user_id: string;
    purpose: 'invite' | 'reset';
    created_at: Generated<Date>;
    expires_at: Date;
    used_at: Date | null;
  };
  audit_log: {
    account_id: string;
    id: string;
    at: Date;
    actor_type: string;
    actor_id: string;
    actor_name: string;
    action: string;
    route: string;
    resource_type: string;
    resource_id: string | null;
    summary: string;
  };
  pools: {
    account_id: string;
    id: string;
    key: Generated<number>;
    merchant_id: string;
    name: string;
    type: 'unique' | 'static';
    expiration_cutoff_days: number;
    active: boolean;
    default_code: string | null;
    default_code_expires_at: Date | null;
    threshold: number | null;
    notification_emails: string[];
    threshold_armed: Generated<boolean>;
    /** A code a permanently refused mail carried goes back to the pool (migration 0010). */
    release_undelivered: Generated<boolean>;
    exhausted_armed: Generated<boolean>;
    /** `coupon_expiring` this many days before an assigned unique code expires (migration 0015). */
    expiry_reminder_days: Generated<number | null>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    /** Archived (migration 0018): distributes nothing, takes no codes, listed apart. */
    archived_at: Generated<Date | null>;
  };
  contacts: {
    account_id: string;
    id: string;
    email: string;
    status: Generated<'subscribed' | 'unsubscribed'>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    /** Field values by field id (migration 0005); see contacts/model.ts. */
    fields: Generated<unknown>;
  };
  assignments: {
    account_id: string;
    id: string;
    pool_key: number;
    contact_id: string;
    idempotency_key: string;
    source: 'unique' | 'static' | 'default';
    code_id: number | null;
    code: string;
    expires_at: Date | null;
    created_at: Date;
    /** Set once when a bounced mail gave the code back to its pool (migration 0010). */
    released_at: Generated<Date | null>;
  };
  codes: {
    id: Generated<number>;
    account_id: string;
    pool_key: number;
    code: string;
    /** 'infinity' for a code that never expires. */
    expires_at: Date | string;
    assigned_at: Date | null;
    /** uploads.key of the upload or generate that brought the code (null: before migration 0014). */
    upload_key: number | null;
  };
  pool_code_counts: {
    account_id: string;
    pool_key: number;
    expires_at: Date | string;
    slot: number;
    codes: number;
    unassigned: number;
  };
  pool_daily_assignments: {
    account_id: string;
    pool_key: number;
    day: string;
    slot: number;
    assigned: number;
  };
  static_codes: {
    account_id: string;
    pool_key: number;
    position: number;
    code: string;
    expires_at: Date | null;
    days_after_distribution: number | null;
    begin_at: Date;
    end_at: Date;
  };
  uploads: {
    account_id: string;
    id: string;
    key: Generated<number>;
    pool_key: number;
    source: 'file' | 'generate';
    file_name: string | null;
    token_id: string | null;
    options: unknown;
    status: 'imported' | 'rejected' | 'failed' | 'cancelled' | 'undone';
    lines: number;
    imported: number;
    duplicates: number;
    rejected: number;
    /** Migration 0013. */
    blank: Generated<number>;
    already_expired: Generated<number>;
    error_count: number;
    errors: unknown;
    created_at: Generated<Date>;
    finished_at: Date | null;
    /** Undo (migration 0018): when, codes removed, assigned codes kept. */
    undone_at: Generated<Date | null>;
    removed: Generated<number | null>;
    kept_assigned: Generated<number | null>;
  };
  outbox: {
    account_id: string;
    id: string;
    merchant_id: string | null;
    kind: 'message' | 'notification' | 'test' | 'access';
    to_email: string;
    from_name: string;
    from_email: string;
    subject: string;
    html: string;
    text: string | null;
    message_id: string;
    status: 'queued' | 'sent' | 'failed';
    transport: 'outbox' | 'smtp';
    attempts: Generated<number>;
    next_attempt_at: Date | null;
    /** The SMTP server's last answer: the error of a failed attempt, or the reply that accepted the mail once sent. */
    last_error: string | null;
    created_at: Date;
    sent_at: Date | null;
    /** The claiming sender's fencing token (migration 0009); null when no sender holds the mail. */
    lease_token: string | null;
    /** Extra headers (migration 0010): List-Unsubscribe and List-Unsubscribe-Post on marketing mail. */
    headers: Generated<Record<string, string> | null>;
  };
  // mail (migration 0010): the generated SECRET_KEY, and each account's suppressed addresses
  installation_settings: {
    key: string;
    value: string;
    created_at: Generated<Date>;
  };
  suppressions: {
    account_id: string;
    /** Lower-cased. */
    email: string;
    reason: 'unsubscribed' | 'bounced' | 'complained' | 'manual';
    detail: string | null;
    created_at: Date;
  };
  // console sign-in (migration 0006): only the session id's SHA-256 is stored
  console_sessions: {
    id_hash: string;
    account_id: string;
    token_id: string | null;
    user_id: Generated<string | null>;
    created_at: Date;
    expires_at: Date;
  };
  conversations: {
    account_id: string;
    id: string;
    name: string;
    status: 'draft' | 'live' | 'paused';
    trigger_event: string;
    draft: unknown;
    live_version: number | null;
    created_at: Date;
    updated_at: Date;
    /** Archived (migration 0018): enrolls nobody; runs in progress finish. */
    archived_at: Generated<Date | null>;
  };
  conversation_versions: {
    account_id: string;
    conversation_id: string;
    version: number;
    document: unknown;
    trigger_event: string;
    exit_events: string[];
    published_at: Date;
  };
  enrollments: {
    account_id: string;
    id: string;
    conversation_id: string;
    version: number;
    contact_id: string;
    /** held: its conversation is paused; failed: parked after its last attempt (resumable). */
    status: 'active' | 'held' | 'failed' | 'completed' | 'exited';
    step_index: number;
    next_due_at: Date;
    exit_reason: string | null;
    /** Failed attempts at the run's current position (0 once it moves on), and the last error. */
    attempts: Generated<number>;
    last_error: string | null;
    created_at: Date;
    updated_at: Date;
    ended_at: Date | null;
    /** The run's place in its version's tree (`steps.2.branches.0.steps.1`); null: `steps.<step_index>` (runs before 0020). */
    step_path: string | null;
    /** At a waitForEvent step: the event type waited for (the timeout is next_due_at), and when it arrived. */
    waiting_for: string | null;
    wait_until: Date | null;
    received_at: Date | null;
    /** The trigger event's properties (split conditions read them). */
    trigger_properties: unknown;
  };
  conductor_settings: {
    account_id: string;
    /** `{messages, perDays}` or null: no cap. */
    frequency_cap: unknown;
    updated_at: Date;
  };
  step_runs: {
    account_id: string;
    enrollment_id: string;
    step_id: string;
    conversation_id: string;
    outcome: string;
    at: Date;
    code: string | null;
    expires_at: Date | null;
    mail_id: string | null;
    detail: string | null;
  };
  // (segmentation tables: added after this line by migration 0005)
  field_groups: {
    account_id: string;
    id: string;
    name: string;
    created_at: Generated<Date>;
  };
  fields: {
    account_id: string;
    id: string;
    group_id: string;
    name: string;
    type: 'text' | 'date' | 'number' | 'boolean';
    created_at: Generated<Date>;
  };
  events: {
    account_id: string;
    id: string;
    contact_id: string;
    type: string;
    properties: unknown;
    occurred_at: Date;
    idempotency_key: string | null;
    outcome: unknown;
    created_at: Date;
  };
  // redemptions (migration 0011): see modules/redemptions/redemptions.sql.ts
  redemptions: {
    account_id: string;
    id: string;
    merchant_id: string;
    pool_key: number;
    code: string;
    code_id: number | null;
    kind: 'unique' | 'static' | 'default';
    contact_id: string | null;
    email: string | null;
    order_id: string;
    amount: string | null;
    currency: string | null;
    source: 'api' | 'file' | 'event' | 'shopify';
    redeemed_at: Date;
    created_at: Date;
    rolled_back_at: Date | null;
  };
  // the pools' daily history (migration 0012): see modules/reports/reports.sql.ts
  pool_daily_history: {
    account_id: string;
    pool_key: number;
    /** The calendar day in the account's time zone. */
    day: string;
    assigned: number;
    redeemed: number;
    available: number;
    recorded_at: Date;
  };
  // integrations (migration 0015): see modules/integrations and modules/webhooks
  expiry_reminders: {
    account_id: string;
    assignment_id: string;
    created_at: Date;
  };
  shopify_integrations: {
    account_id: string;
    merchant_id: string;
    secret_sealed: string;
    created_at: Date;
    updated_at: Date;
  };
  shopify_deliveries: {
    account_id: string;
    merchant_id: string;
    id: string;
    webhook_id: string;
    topic: string;
    result: 'processed' | 'duplicate' | 'ignored' | 'failed';
    order_id: string | null;
    detail: unknown;
    received_at: Date;
  };
  webhooks: {
    account_id: string;
    id: string;
    url: string;
    events: string[];
    secret_sealed: string;
    created_at: Date;
  };
  webhook_queue: {
    account_id: string;
    webhook_id: string;
    event_id: string;
    type: string;
    payload: unknown;
    created_at: Date;
    status: Generated<'queued' | 'delivered' | 'failed'>;
    attempts: Generated<number>;
    next_attempt_at: Date | null;
    lease_token: string | null;
    last_error: string | null;
    delivered_at: Date | null;
  };
  webhook_attempts: {
    account_id: string;
    webhook_id: string;
    id: string;
    at: Date;
    status_code: number | null;
    latency_ms: number;
    event_ids: string[];
    outcome: 'delivered' | 'retrying' | 'failed';
    error: string | null;
  };
  messages: {
    account_id: string;
    id: string;
    name: string;
    from_name: string;
    from_email: string;
    subject: string;
    html: string;
    text: string | null;
    created_at: Date;
    updated_at: Date;
  };
}

export type AppDatabase = Database<DB>;

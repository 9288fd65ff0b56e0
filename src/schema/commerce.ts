import type { Generated, JSONColumnType } from 'kysely';
import type { WebhookEvent } from '../modules/webhooks/model.ts';

/** Redemptions and integrations: Shopify, webhooks, expiry reminders. */
export interface CommerceTables {
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
    detail: JSONColumnType<Record<string, unknown>, string | undefined, string>;
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
    payload: JSONColumnType<WebhookEvent>;
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
}

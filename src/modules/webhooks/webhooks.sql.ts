import { sql } from 'kysely';
import type { WebhookEvent } from './model.ts';

export interface QueueRow {
  account_id: string;
  webhook_id: string;
  event_id: string;
  type: string;
  payload: WebhookEvent;
  attempts: number;
  url: string;
  secret_sealed: string;
}

/**
 * THE enqueue: events fanned out to the account's webhooks that subscribe to their type, in ONE
 * statement, inside the transaction of the change that caused them (an assignment batch, a
 * redemption, a notice flip, an unsubscribe): no event without its cause, no cause without its event.
 * Set-wise: a conductor batch of 500 assignments is one insert; with no subscribed webhook it
 * inserts nothing (the join on `webhooks` is empty). Locks nothing but the new rows.
 * Idempotent: the primary key (webhook_id, event_id) and `on conflict do nothing`.
 */
export function enqueueStatement(accountId: string, events: WebhookEvent[], now: Date) {
  return sql`
    insert into webhook_queue (account_id, webhook_id, event_id, type, payload, created_at, next_attempt_at)
    select w.account_id, w.id, x.id, x.type, to_jsonb(x), ${now}, ${now}
    from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as x(id text, type text, "createdAt" text, data jsonb)
    join webhooks w on w.account_id = ${accountId} and x.type = any (w.events)
    on conflict do nothing`;
}

/**
 * Whether any webhook of the account subscribes to `type` (a report source asks before it reads
 * back every redemption it recorded for code.redeemed). A read; locks nothing.
 */
export const subscribesStatement = (accountId: string, type: string) =>
  sql<{ one: number }>`select 1 as one from webhooks where account_id = ${accountId} and ${type} = any (events) limit 1`;

/**
 * The sender's claim: up to `limit` due events of ONE webhook (one POST carries them), the rows
 * other senders hold skipped. The webhook is the one of the oldest due row nobody holds. The claim
 * uses the array idiom (`ctid = any(array(select … for update skip locked))`: the locking select
 * runs once, exactly `limit` rows at most), bumps `attempts`, pushes `next_attempt_at` a lease ahead
 * and writes the claim's fencing token, and commits at once: the POST happens outside any
 * transaction. A sender that dies after sending leaves the rows to be claimed again when the lease
 * ends (at-least-once; the event ids let receivers drop repeats).
 */
export function claimStatement(p: { now: Date; limit: number; leaseUntil: Date; leaseToken: string }) {
  return sql<QueueRow>`
    with claimed as (
      update webhook_queue q
      set attempts = q.attempts + 1, next_attempt_at = ${p.leaseUntil}, lease_token = ${p.leaseToken}
      where q.ctid = any(array(
        select ctid from webhook_queue
        where status = 'queued' and next_attempt_at <= ${p.now}
          and webhook_id = (select webhook_id from webhook_queue
                            where status = 'queued' and next_attempt_at <= ${p.now}
                            order by next_attempt_at limit 1 for update skip locked)
        order by next_attempt_at, event_id
        limit ${p.limit}
        for update skip locked))
      returning q.*
    )
    select c.account_id, c.webhook_id, c.event_id, c.type, c.payload, c.attempts, w.url, w.secret_sealed
    from claimed c join webhooks w on w.account_id = c.account_id and w.id = c.webhook_id
    order by c.event_id`;
}

/**
 * The result of one POST, fenced: only rows still carrying this claim's token (and queued) change,
 * so a sender that stalled past its lease cannot overwrite what a later claim did. Delivered: done.
 * Failed: each row's next try after a doubling backoff from its own attempt count, or `failed`
 * after `maxAttempts`. Answers the rows changed.
 */
export function settleStatement(p: {
  webhookId: string;
  eventIds: string[];
  leaseToken: string;
  delivered: boolean;
  now: Date;
  error: string | null;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}) {
  return sql<{ event_id: string; status: string }>`
    update webhook_queue
    set status = case when ${p.delivered} then 'delivered' when attempts >= ${p.maxAttempts} then 'failed' else 'queued' end,
        delivered_at = case when ${p.delivered} then ${p.now}::timestamptz end,
        next_attempt_at = case when ${p.delivered} or attempts >= ${p.maxAttempts} then null
          else ${p.now}::timestamptz + least(${p.maxDelayMs}::float8, ${p.baseDelayMs}::float8 * power(2, greatest(attempts - 1, 0))) * interval '1 millisecond' end,
        last_error = ${p.error},
        lease_token = null
    where webhook_id = ${p.webhookId} and event_id = any(${p.eventIds}::text[]) and lease_token = ${p.leaseToken} and status = 'queued'
    returning event_id, status`;
}

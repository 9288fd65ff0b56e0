import { sql } from 'kysely';

/**
 * A Shopify delivery recorded once per `X-Shopify-Webhook-Id` (Shopify repeats a delivery with the
 * same id when it saw no 2xx). Runs first in the delivery's transaction: the unique index
 * shopify_deliveries_webhook_key (account, merchant, webhook id) makes a concurrent repeat wait for
 * this transaction and then insert nothing; a repeat after commit inserts nothing at once. So the
 * redemptions and the event of one delivery are written once, however often Shopify sends it.
 * If the transaction rolls back (a database failure), the id is free again and Shopify's retry is
 * processed. Locks only that index entry. Answers the new row's id, or nothing for a repeat.
 */
export function recordDeliveryStatement(p: {
  accountId: string;
  merchantId: string;
  id: string;
  webhookId: string;
  topic: string;
  result: string;
  orderId: string | null;
  detail: Record<string, unknown>;
  now: Date;
}) {
  return sql<{ id: string }>`
    insert into shopify_deliveries (account_id, merchant_id, id, webhook_id, topic, result, order_id, detail, received_at)
    values (${p.accountId}, ${p.merchantId}, ${p.id}, ${p.webhookId}, ${p.topic}, ${p.result}, ${p.orderId}, ${JSON.stringify(p.detail)}::jsonb, ${p.now})
    on conflict (account_id, merchant_id, webhook_id) do nothing
    returning id`;
}

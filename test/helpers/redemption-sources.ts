import { createHmac } from 'node:crypto';
import type { App } from '../../src/app.ts';
import type { api } from '../conductor/setup.ts';

/**
 * What the suites of the redemption sources (Shopify's webhook, the CSV import, events naming a
 * code, and the console's Integrations screen) share: Shopify's signature, the headers of a
 * delivery, and runs that were handed codes by a conversation that ends on redemption.
 */

/** Shopify's X-Shopify-Hmac-Sha256: the base64 HMAC-SHA256 of the raw body under the webhook secret. */
export const shopifySignature = (body: string | Buffer, secret: string) => createHmac('sha256', secret).update(body).digest('base64');

/** The headers of a signed Shopify delivery of `topic`. */
export const shopifyHeaders = (d: { body: string; secret: string; topic: string; webhookId: string; shop?: string }) => ({
  'content-type': 'application/json',
  'x-shopify-topic': d.topic,
  'x-shopify-hmac-sha256': shopifySignature(d.body, d.secret),
  'x-shopify-webhook-id': d.webhookId,
  'x-shopify-shop-domain': d.shop ?? 'shop.myshopify.com',
});

/**
 * A pool holding `codes` (one a line, no expiration), a live conversation triggered by
 * `cart_abandoned` that assigns one of them and then waits two days, ending on redemption
 * (exitOnRedemption); a cart_abandoned event for each of `emails`, and the conductor run once:
 * each contact's run is active, waiting, with its code in `run.steps[0].code`.
 */
export async function runsHandedCodes(app: App, a: ReturnType<typeof api>, merchantId: string, codes: string, emails: string[]) {
  const pool = await a.pool({});
  await a.upload(pool.id, codes, { expiration: 'none' });
  const { code: field } = await a.couponFields();
  const conversation = await a.conversation({
    trigger: { event: 'cart_abandoned' },
    exitOnRedemption: true,
    steps: [
      {
        type: 'action',
        name: 'Assign',
        action: { type: 'assignCoupon', merchantId, poolId: pool.id, saveCodeTo: field.id, whenNoCode: 'exit' },
      },
      { type: 'delay', name: 'Wait two days', duration: 'P2D' },
    ],
  });
  await a.publish(conversation.id);
  for (const email of emails) await a.event('cart_abandoned', email);
  await app.services.engine.runDue();
  return { conversation, runs: await a.enrollments(conversation.id) };
}

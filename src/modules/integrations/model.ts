/** The Shopify orders webhook: the contract the API and the console share. Pure: no I/O. */
import { z } from 'zod';

export const shopifySettingsInput = z.object({
  webhookSecret: z
    .string()
    .trim()
    .min(8)
    .max(500)
    .describe('the secret Shopify shows under Settings → Notifications → Webhooks (write-only)'),
});

/** Topics that do something; every other topic is answered 200 and ignored. */
export const HANDLED_TOPICS = ['orders/create', 'orders/paid', 'orders/cancelled'] as const;
export type HandledTopic = (typeof HANDLED_TOPICS)[number];
export const isHandledTopic = (t: string): t is HandledTopic => (HANDLED_TOPICS as readonly string[]).includes(t);

const money = z.union([z.string().max(40), z.number()]).transform((v) => String(v));

/**
 * The part of Shopify's order payload that matters here (the documented `orders/create` shape:
 * id, email, currency, total_price, discount_codes [{code, amount, type}], created_at). Extra
 * fields are ignored; a discount code's text is trimmed (as a code is everywhere).
 */
export const shopifyOrder = z.object({
  id: z.union([z.number().int().nonnegative(), z.string().trim().min(1).max(200)]).transform((v) => String(v)),
  email: z.email().max(320).nullable().optional(),
  contact_email: z.email().max(320).nullable().optional(),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/)
    .nullable()
    .optional(),
  total_price: money.nullable().optional(),
  created_at: z.iso.datetime({ offset: true }).nullable().optional(),
  discount_codes: z
    .array(
      z.object({
        code: z.string().trim().min(1).max(50),
        amount: money.nullable().optional(),
        type: z.string().max(50).nullable().optional(),
      }),
    )
    .max(250)
    .default([]),
});
export type ShopifyOrder = z.output<typeof shopifyOrder>;

export type DeliveryResult = 'processed' | 'duplicate' | 'ignored' | 'failed';

/** One webhook delivery as the console lists it. */
export interface ShopifyDelivery {
  id: string;
  webhookId: string;
  topic: string;
  result: DeliveryResult;
  orderId: string | null;
  detail: Record<string, unknown>;
  receivedAt: Date;
}

/** GET …/integrations/shopify as JSON: configured or not (never the secret), the URL, the last deliveries. */
export const shopifyStatusOut = z.object({
  configured: z.boolean(),
  updatedAt: z.string().nullable(),
  webhookUrl: z.string(),
  deliveries: z.array(
    z.object({
      id: z.string(),
      webhookId: z.string(),
      topic: z.string(),
      result: z.enum(['processed', 'duplicate', 'ignored', 'failed']),
      orderId: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()),
      receivedAt: z.string(),
    }),
  ),
});
export type ShopifyStatusJson = z.infer<typeof shopifyStatusOut>;
export type ShopifyDeliveryJson = ShopifyStatusJson['deliveries'][number];

export const webhookUrlFor = (baseUrl: string, merchantId: string) =>
  `${baseUrl.replace(/\/+$/, '')}/v1/merchants/${encodeURIComponent(merchantId)}/integrations/shopify/webhooks`;

/** A Shopify amount ("10.00") as a number for the redemption, or undefined when it is not one. */
export function amountOf(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 1e12 ? n : undefined;
}

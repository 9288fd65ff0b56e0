import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { parseJsonBody } from '../../platform/http/input.ts';
import { newId } from '../../platform/ids.ts';
import type { InstallationSecret } from '../../platform/secret.ts';
import { seal, unseal } from '../../platform/seal.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { EventsService } from '../events/service.ts';
import type { RedemptionsService } from '../redemptions/service.ts';
import { recordDeliveryStatement } from './integrations.sql.ts';
import {
  amountOf,
  isHandledTopic,
  shopifyOrder,
  webhookUrlFor,
  type DeliveryResult,
  type ShopifyDelivery,
  type ShopifyOrder,
} from './model.ts';
import * as repo from './repo.ts';

export interface ShopifyHeaders {
  hmac?: string | undefined;
  topic?: string | undefined;
  webhookId?: string | undefined;
}

export interface IntakeAnswer {
  status: 200 | 422;
  result: DeliveryResult;
  detail: Record<string, unknown>;
}

export interface IntakeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const unauthorized = () =>
  new DomainError(
    'unauthorized',
    'invalid_signature',
    "The X-Shopify-Hmac-Sha256 signature is missing or does not match this merchant's webhook secret.",
  );

/** Constant-time check of Shopify's base64 HMAC-SHA256 over the raw body. */
export function signatureMatches(secret: string, raw: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(header.trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function integrationsService(deps: {
  database: AppDatabase;
  clock: Clock;
  secret: InstallationSecret;
  accounts: AccountsService;
  redemptions: RedemptionsService;
  events: EventsService;
  log?: IntakeLog;
}) {
  const { db } = deps.database;

  /** Stores (or replaces) the merchant's webhook secret, sealed; answers the URL to paste into Shopify. */
  async function configure(
    principal: Principal,
    merchantId: string,
    webhookSecret: string,
    baseUrl: string,
  ): Promise<{ webhookUrl: string }> {
    await deps.accounts.getMerchant(principal, merchantId);
    const key = await deps.secret.get();
    await repo.saveSecret(db, {
      accountId: principal.accountId,
      merchantId,
      secretSealed: seal(key, webhookSecret),
      now: deps.clock.now(),
    });
    return { webhookUrl: webhookUrlFor(baseUrl, merchantId) };
  }

  /** What the console shows: configured or not (never the secret), the URL, the last deliveries. */
  async function status(
    principal: Principal,
    merchantId: string,
    baseUrl: string,
  ): Promise<{ configured: boolean; updatedAt: Date | null; webhookUrl: string; deliveries: ShopifyDelivery[] }> {
    await deps.accounts.getMerchant(principal, merchantId);
    const found = await repo.findByMerchant(db, merchantId);
    const mine = found?.accountId === principal.accountId ? found : undefined;
    return {
      configured: mine !== undefined,
      updatedAt: mine?.updatedAt ?? null,
      webhookUrl: webhookUrlFor(baseUrl, merchantId),
      deliveries: await repo.recentDeliveries(db, principal.accountId, merchantId, 20),
    };
  }

  /** A delivery whose body is not an order (after a good signature): recorded as failed, answered 422. */
  async function failed(accountId: string, merchantId: string, webhookId: string, topic: string, reason: string): Promise<IntakeAnswer> {
    const detail = { error: reason };
    await recordDeliveryStatement({
      accountId,
      merchantId,
      id: newId(),
      webhookId,
      topic,
      result: 'failed',
      orderId: null,
      detail,
      now: deps.clock.now(),
    }).execute(db);
    deps.log?.warn({ merchantId, webhookId, topic, reason }, 'shopify webhook: malformed order');
    return { status: 422, result: 'failed', detail };
  }

  async function placeOrder(tx: Kysely<DB>, accountId: string, merchantId: string, order: ShopifyOrder) {
    const email = order.email ?? order.contact_email ?? undefined;
    const currency = order.currency?.toUpperCase() ?? undefined;
    const codes = [...new Map(order.discount_codes.map((d) => [d.code, d])).values()];
    // One order_placed per order (orders/create and orders/paid both name it): keyed by the order.
    // First, so that a new contact exists when a shared code's redemption looks for the order's contact.
    const events = email
      ? await deps.events.recordWithin(tx, accountId, [
          {
            type: 'order_placed',
            email,
            properties: {
              orderId: order.id,
              totalPrice: order.total_price ?? null,
              currency: currency ?? null,
              couponCodes: codes.map((d) => d.code),
            },
            idempotencyKey: `shopify:${merchantId}:order:${order.id}`,
          },
        ])
      : [];
    const redemptions: Record<string, unknown>[] = [];
    for (const d of codes) {
      const outcome = await deps.redemptions.record(
        tx,
        accountId,
        merchantId,
        {
          code: d.code,
          orderId: order.id,
          email,
          amount: amountOf(d.amount),
          currency,
          occurredAt: order.created_at ? new Date(order.created_at) : undefined,
        },
        'shopify',
        false,
      );
      redemptions.push(
        outcome.ok
          ? { code: d.code, recorded: outcome.created, redemptionId: outcome.redemption.id }
          : { code: d.code, recorded: false, reason: outcome.reason },
      );
    }
    return { redemptions, event: email ? (events.length ? 'recorded' : 'already_recorded') : 'no_email' };
  }

  /**
   * POST …/integrations/shopify/webhooks (public): authenticated by the HMAC over the raw body,
   * before anything is read or recorded; then one transaction per delivery (deduplicated on the
   * webhook id) with the redemptions, the order_placed event, or the rollback.
   */
  async function receive(merchantId: string, raw: Buffer, headers: ShopifyHeaders): Promise<IntakeAnswer> {
    const integration = await repo.findByMerchant(db, merchantId);
    const secret = integration && unseal(await deps.secret.get(), integration.secretSealed);
    if (!integration || !secret || !signatureMatches(secret, raw, headers.hmac)) throw unauthorized();
    const { accountId } = integration;
    const topic = (headers.topic ?? '').trim().slice(0, 100);
    // Shopify always sends an id; without one, the body's hash stands in (a resend is the same body).
    const webhookId = (headers.webhookId?.trim() || `sha256:${createHash('sha256').update(raw).digest('hex')}`).slice(0, 200);
    const now = deps.clock.now();
    if (!isHandledTopic(topic)) {
      const inserted = await recordDeliveryStatement({
        accountId,
        merchantId,
        id: newId(),
        webhookId,
        topic,
        result: 'ignored',
        orderId: null,
        detail: {},
        now,
      }).execute(db);
      deps.log?.info({ merchantId, webhookId, topic }, 'shopify webhook: topic ignored');
      return { status: 200, result: inserted.rows.length ? 'ignored' : 'duplicate', detail: {} };
    }
    let order: ShopifyOrder;
    try {
      const parsed = shopifyOrder.safeParse(parseJsonBody(raw.toString('utf8')));
      if (!parsed.success)
        return failed(
          accountId,
          merchantId,
          webhookId,
          topic,
          parsed.error.issues
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
            .join('; ')
            .slice(0, 500),
        );
      order = parsed.data;
    } catch (err) {
      return failed(accountId, merchantId, webhookId, topic, `not JSON: ${(err as Error).message}`.slice(0, 500));
    }
    return db.transaction().execute(async (tx): Promise<IntakeAnswer> => {
      const id = newId();
      const inserted = await recordDeliveryStatement({
        accountId,
        merchantId,
        id,
        webhookId,
        topic,
        result: 'processed',
        orderId: order.id,
        detail: {},
        now,
      }).execute(tx);
      if (inserted.rows.length === 0) return { status: 200, result: 'duplicate', detail: {} };
      const detail: Record<string, unknown> =
        topic === 'orders/cancelled'
          ? { rolledBack: (await deps.redemptions.rollbackOrderWithin(tx, accountId, merchantId, order.id)).map((r) => r.code) }
          : await placeOrder(tx, accountId, merchantId, order);
      await repo.updateDetail(tx, accountId, id, detail);
      return { status: 200, result: 'processed', detail };
    });
  }

  return { configure, status, receive };
}

export type IntegrationsService = ReturnType<typeof integrationsService>;

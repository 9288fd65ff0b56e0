import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { ShopifyDelivery } from './model.ts';

type Q = Kysely<DB>;

/** The integration of a merchant, found by the merchant id alone (the public webhook has no token). */
export async function findByMerchant(
  db: Q,
  merchantId: string,
): Promise<{ accountId: string; secretSealed: string; updatedAt: Date } | undefined> {
  const row = await db
    .selectFrom('shopify_integrations')
    .select(['account_id', 'secret_sealed', 'updated_at'])
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  return row && { accountId: row.account_id, secretSealed: row.secret_sealed, updatedAt: new Date(row.updated_at) };
}

export async function saveSecret(db: Q, p: { accountId: string; merchantId: string; secretSealed: string; now: Date }): Promise<void> {
  await db
    .insertInto('shopify_integrations')
    .values({ account_id: p.accountId, merchant_id: p.merchantId, secret_sealed: p.secretSealed, created_at: p.now, updated_at: p.now })
    .onConflict((oc) => oc.columns(['account_id', 'merchant_id']).doUpdateSet({ secret_sealed: p.secretSealed, updated_at: p.now }))
    .execute();
}

export async function updateDetail(db: Q, accountId: string, id: string, detail: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('shopify_deliveries')
    .set({ detail: JSON.stringify(detail) })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

/** The last deliveries of a merchant, newest first. */
export async function recentDeliveries(db: Q, accountId: string, merchantId: string, limit: number): Promise<ShopifyDelivery[]> {
  const rows = await db
    .selectFrom('shopify_deliveries')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    webhookId: r.webhook_id,
    topic: r.topic,
    result: r.result,
    orderId: r.order_id,
    detail: r.detail,
    receivedAt: new Date(r.received_at),
  }));
}

/** How many deliveries a merchant has (tests: "nothing recorded"). */
export async function countDeliveries(db: Q, accountId: string, merchantId: string): Promise<number> {
  const row = await db
    .selectFrom('shopify_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Webhook, WebhookAttempt, WebhookEventType } from './model.ts';

type Q = Kysely<DB>;

const toWebhook = (r: { id: string; url: string; events: string[]; created_at: Date }): Webhook => ({
  id: r.id,
  url: r.url,
  events: r.events as WebhookEventType[],
  createdAt: new Date(r.created_at),
});

export async function insertWebhook(
  db: Q,
  w: { accountId: string; id: string; url: string; events: string[]; secretSealed: string; now: Date },
): Promise<Webhook> {
  const row = await db
    .insertInto('webhooks')
    .values({ account_id: w.accountId, id: w.id, url: w.url, events: w.events, secret_sealed: w.secretSealed, created_at: w.now })
    .returning(['id', 'url', 'events', 'created_at'])
    .executeTakeFirstOrThrow();
  return toWebhook(row);
}

export async function listWebhooks(db: Q, accountId: string, page: { after?: string | undefined; limit: number }): Promise<Webhook[]> {
  let q = db
    .selectFrom('webhooks')
    .select(['id', 'url', 'events', 'created_at'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .limit(page.limit);
  if (page.after) q = q.where('id', '>', page.after);
  return (await q.execute()).map(toWebhook);
}

export async function findWebhook(db: Q, accountId: string, id: string): Promise<Webhook | undefined> {
  const row = await db
    .selectFrom('webhooks')
    .select(['id', 'url', 'events', 'created_at'])
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toWebhook(row);
}

/** The webhook, its queue and its log, in one transaction: nothing is sent to it any more. */
export async function deleteWebhook(db: Q, accountId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const r = await tx.deleteFrom('webhooks').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await tx.deleteFrom('webhook_queue').where('webhook_id', '=', id).execute();
    await tx.deleteFrom('webhook_attempts').where('webhook_id', '=', id).execute();
    return true;
  });
}

export async function insertAttempt(db: Q, a: WebhookAttempt & { accountId: string; webhookId: string }): Promise<void> {
  await db
    .insertInto('webhook_attempts')
    .values({
      account_id: a.accountId,
      webhook_id: a.webhookId,
      id: a.id,
      at: a.at,
      status_code: a.statusCode,
      latency_ms: a.latencyMs,
      event_ids: a.eventIds,
      outcome: a.outcome,
      error: a.error?.slice(0, 2000) ?? null,
    })
    .execute();
}

/** Newest first (ids are time-ordered). */
export async function listAttempts(
  db: Q,
  accountId: string,
  webhookId: string,
  page: { before?: string | undefined; limit: number },
): Promise<WebhookAttempt[]> {
  let q = db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('webhook_id', '=', webhookId)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.before) q = q.where('id', '<', page.before);
  return (await q.execute()).map((r) => ({
    id: r.id,
    at: new Date(r.at),
    statusCode: r.status_code,
    latencyMs: r.latency_ms,
    eventIds: r.event_ids,
    outcome: r.outcome,
    error: r.error,
  }));
}

/** Queue rows by state for one webhook (the deliveries page shows what is pending). */
export async function queueCounts(db: Q, webhookId: string): Promise<Record<'queued' | 'delivered' | 'failed', number>> {
  const rows = await db
    .selectFrom('webhook_queue')
    .select(['status'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('webhook_id', '=', webhookId)
    .groupBy('status')
    .execute();
  const out = { queued: 0, delivered: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

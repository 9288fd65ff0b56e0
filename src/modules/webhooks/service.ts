import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { InstallationSecret } from '../../platform/secret.ts';
import { seal, unseal } from '../../platform/seal.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { urlProblem, type Webhook, type WebhookAttempt, type WebhookEvent, type WebhookEventType, type WebhookInput } from './model.ts';
import * as repo from './repo.ts';
import { postJson, signature } from './sender.ts';
import { checkHost, RefusedTarget } from './ssrf.ts';
import { claimStatement, enqueueStatement, settleStatement, subscribesStatement } from './webhooks.sql.ts';

export interface WebhookDeliveryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Events per POST at most. */
  batchSize: number;
  leaseMs: number;
  timeoutMs: number;
  /** WEBHOOKS_ALLOW_PRIVATE: deliver to loopback/private addresses too. */
  allowPrivate: boolean;
}

export interface DeliveryReport {
  posts: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/** A new event: its type and data (id and time are added here). */
export interface NewWebhookEvent {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

const refused = (message: string) => new DomainError('invalid', 'webhook_url_refused', message, [{ field: 'url', message }]);

export function webhooksService(deps: { database: AppDatabase; clock: Clock; secret: InstallationSecret; policy: WebhookDeliveryPolicy }) {
  const { db } = deps.database;
  const { policy } = deps;

  async function checkUrl(raw: string): Promise<void> {
    const problem = urlProblem(raw);
    if (problem) throw refused(`url ${problem}`);
    try {
      await checkHost(new URL(raw).hostname, policy.allowPrivate);
    } catch (err) {
      // A name that does not resolve now may later: delivery tries (and checks) again then.
      if (err instanceof RefusedTarget) throw refused(err.message);
    }
  }

  async function create(principal: Principal, input: WebhookInput): Promise<Webhook & { secret: string }> {
    await checkUrl(input.url);
    const secret = input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const key = await deps.secret.get();
    const webhook = await repo.insertWebhook(db, {
      accountId: principal.accountId,
      id: newId(),
      url: input.url,
      events: [...new Set(input.events)],
      secretSealed: seal(key, secret),
      now: deps.clock.now(),
    });
    return { ...webhook, secret };
  }

  async function list(principal: Principal, page: PageQuery): Promise<Page<Webhook>> {
    const rows = await repo.listWebhooks(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    return toPage(rows, page.limit, (w) => w.id);
  }

  async function remove(principal: Principal, id: string): Promise<void> {
    if (!(await repo.deleteWebhook(db, principal.accountId, id))) throw notFound('webhook');
  }

  async function deliveries(
    principal: Principal,
    id: string,
    page: PageQuery,
  ): Promise<Page<WebhookAttempt> & { queue: Awaited<ReturnType<typeof repo.queueCounts>> }> {
    if (!(await repo.findWebhook(db, principal.accountId, id))) throw notFound('webhook');
    const rows = await repo.listAttempts(db, principal.accountId, id, { before: decodeCursor(page.cursor), limit: page.limit + 1 });
    return { ...toPage(rows, page.limit, (a) => a.id), queue: await repo.queueCounts(db, id) };
  }

  /**
   * Writes events within `tx`, the transaction of their cause, for every webhook of the account
   * that subscribes to their type (one statement; nothing when none does). Answers the event ids.
   */
  async function enqueue(tx: Kysely<DB>, accountId: string, events: NewWebhookEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const createdAt = deps.clock.now();
    const full: WebhookEvent[] = events.map((e) => ({ id: newId(), type: e.type, createdAt: createdAt.toISOString(), data: e.data }));
    await enqueueStatement(accountId, full, createdAt).execute(tx);
    return full.map((e) => e.id);
  }

  /** Whether an event of `type` would be written for the account at all (some webhook subscribes). */
  const subscribes = async (q: Kysely<DB>, accountId: string, type: WebhookEventType): Promise<boolean> =>
    (await subscribesStatement(accountId, type).execute(q)).rows.length > 0;

  /** One claim, one POST, one settle. false when nothing was due. */
  async function deliverOne(report: DeliveryReport): Promise<boolean> {
    const now = deps.clock.now();
    const leaseToken = newId();
    const { rows } = await claimStatement({
      now,
      limit: policy.batchSize,
      leaseUntil: new Date(now.getTime() + policy.leaseMs),
      leaseToken,
    }).execute(db);
    if (rows.length === 0) return false;
    const first = rows[0]!;
    const key = await deps.secret.get();
    const secret = unseal(key, first.secret_sealed);
    const body = JSON.stringify(rows.map((r) => r.payload));
    const unix = Math.floor(deps.clock.now().getTime() / 1000);
    const result = secret
      ? await postJson(
          first.url,
          body,
          { 'couponflow-signature': signature(secret, unix, body), 'couponflow-event-count': String(rows.length) },
          { allowPrivate: policy.allowPrivate, timeoutMs: policy.timeoutMs },
        )
      : { statusCode: null, latencyMs: 0, error: 'the signing secret cannot be opened with this SECRET_KEY' };
    report.posts++;
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const eventIds = rows.map((r) => r.event_id);
    await db.transaction().execute(async (tx) => {
      const settled = await settleStatement({
        webhookId: first.webhook_id,
        eventIds,
        leaseToken,
        delivered,
        now: deps.clock.now(),
        error: result.error,
        ...policy,
      }).execute(tx);
      // Not ours any more (the lease ran out and another sender claimed them): log nothing here.
      if (settled.rows.length === 0) return;
      const failed = settled.rows.filter((r) => r.status === 'failed').length;
      if (delivered) report.delivered += settled.rows.length;
      else {
        report.failed += failed;
        report.retrying += settled.rows.length - failed;
      }
      await repo.insertAttempt(tx, {
        accountId: first.account_id,
        webhookId: first.webhook_id,
        id: newId(),
        at: now,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        eventIds,
        outcome: delivered ? 'delivered' : failed === settled.rows.length ? 'failed' : 'retrying',
        error: result.error,
      });
    });
    return true;
  }

  /**
   * Delivers everything due now, POST after POST, `lanes` POSTs in flight (a slow receiver holds one
   * lane, not the others); safe in many processes (claims skip each other's rows).
   */
  async function deliverDue(maxPosts = 1000, lanes = 4): Promise<DeliveryReport> {
    const report: DeliveryReport = { posts: 0, delivered: 0, retrying: 0, failed: 0 };
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (report.posts < maxPosts && (await deliverOne(report)));
      }),
    );
    return report;
  }

  return { create, list, remove, deliveries, enqueue, subscribes, deliverDue };
}

export type WebhooksService = ReturnType<typeof webhooksService>;

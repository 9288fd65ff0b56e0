import type { Config } from './config.ts';
import type { Clock } from './platform/clock.ts';
import { createHttpApp, type HttpApp } from './platform/http/app.ts';
import { createMetrics } from './platform/metrics.ts';
import { sql } from 'kysely';
import type { AppDatabase } from './schema.ts';
import { mountRoutes } from './routes.ts';
import { accountsService } from './modules/accounts/service.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { sessionsService } from './modules/accounts/sessions.ts';
import { SESSION_COOKIE } from './modules/accounts/session-routes.ts';
import { poolsService } from './modules/pools/service.ts';
import { uploadsService } from './modules/uploads/service.ts';
import { staticCodesService } from './modules/pools/static-codes.ts';
import { contactsService } from './modules/contacts/service.ts';
import { assignmentsService } from './modules/assignments/service.ts';
import { noticeMail } from './modules/assignments/notices.ts';
import { assignedEventData } from './modules/assignments/assigned-event.ts';
import { outboxService } from './modules/outbox/service.ts';
import { mailTransport, type MailTransport } from './platform/mail/transport.ts';
import { segmentationService } from './modules/segmentation/service.ts';
import { messagesService } from './modules/messages/service.ts';
import { createRenderPool, defaultRenderThreads } from './modules/messages/render-pool.ts';
import { testSendService } from './modules/messages/test-send.ts';
import { eventsService } from './modules/events/service.ts';
import { conductorService, enrollmentView } from './modules/conductor/service.ts';
import { conductorEngine } from './modules/conductor/engine.ts';
import { installationSecret } from './platform/secret.ts';
import { suppressionsService } from './modules/suppressions/service.ts';
import { unsubscribeService } from './modules/unsubscribe/service.ts';
import { redemptionsService, type RedemptionCounter } from './modules/redemptions/service.ts';
import { redeemedEventData } from './modules/redemptions/redeemed.ts';
import { codesService } from './modules/codes/service.ts';
import { reportsService } from './modules/reports/service.ts';
import { webhooksService } from './modules/webhooks/service.ts';
import { integrationsService } from './modules/integrations/service.ts';
import { remindersService } from './modules/reminders/service.ts';
import { authHook } from './modules/accounts/auth-hook.ts';
import { auditService } from './modules/audit/service.ts';
import { auditHook } from './modules/audit/routes.ts';
import { usersService } from './modules/users/service.ts';

type MailSettings =
  | 'SMTP_URL'
  | 'MAIL_FROM_EMAIL'
  | 'MAIL_FROM_NAME'
  | 'MAIL_MAX_ATTEMPTS'
  | 'MAIL_RETRY_SECONDS'
  | 'PUBLIC_URL'
  | 'SECRET_KEY'
  | 'MAIL_CONCURRENCY'
  | 'MAIL_RATE_PER_SECOND'
  | 'DKIM_DOMAIN'
  | 'DKIM_SELECTOR'
  | 'DKIM_PRIVATE_KEY';
type EngineSettings = 'CONDUCTOR_MAX_ATTEMPTS' | 'CONDUCTOR_RETRY_SECONDS';
type WebhookSettings = 'WEBHOOKS_ALLOW_PRIVATE' | 'WEBHOOK_MAX_ATTEMPTS' | 'WEBHOOK_RETRY_SECONDS';

export interface AppDeps {
  config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'UPLOAD_LIMIT_BYTES' | 'DEFAULT_TIME_ZONE'> &
    Partial<
      Pick<
        Config,
        MailSettings | EngineSettings | WebhookSettings | 'RENDER_THREADS' | 'TRUST_PROXY' | 'SIGN_IN_MAX_FAILURES' | 'AUDIT_RETENTION_DAYS'
      >
    >;
  database: AppDatabase;
  clock: Clock;
  /** Where mail goes; by default from SMTP_URL (unset: kept in the outbox). */
  transport?: MailTransport;
  /** The built console (default web/dist). */
  consoleDir?: string;
  /** The process's logger (platform/logger.ts); by default one at LOG_LEVEL on stdout. */
  logger?: Logger;
}

/** The composition root: every service, built from its dependencies (no HTTP). */
export function createServices(deps: AppDeps, counters: { redemptions?: RedemptionCounter } = {}) {
  const accounts = accountsService(deps.database, deps.clock);
  const audit = auditService({ database: deps.database, clock: deps.clock, retentionDays: deps.config.AUDIT_RETENTION_DAYS });
  const sessions = sessionsService({ database: deps.database, clock: deps.clock, accounts, maxFailures: deps.config.SIGN_IN_MAX_FAILURES });
  const pools = poolsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    usedBy: (tx, a, ref) => conductor.poolUsedBy(tx, a, ref),
  });
  const uploads = uploadsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    pools,
    onImported: (pool) => assignments.checkNotices(pool),
    onRemoved: (pool) => assignments.checkNotices(pool),
  });
  const staticCodes = staticCodesService({ database: deps.database, accounts, pools });
  // A field is used by conversations (the conductor) and by messages' templates; deleting it drops the contacts' values.
  const segmentation = segmentationService({
    database: deps.database,
    usedBy: async (tx, accountId, fieldIds, groups) => {
      const [byConversations, byMessages] = [
        await conductor.fieldUsedBy(tx, accountId, fieldIds, groups),
        await messages.readersOf(tx, accountId, fieldIds, groups),
      ];
      return new Map(fieldIds.map((f) => [f, [...(byConversations.get(f) ?? []), ...(byMessages.get(f) ?? [])]]));
    },
    removeValues: (tx, accountId, fieldIds) => contacts.removeFieldValues(tx, accountId, fieldIds),
  });
  const reports = reportsService({ database: deps.database, clock: deps.clock, accounts, pools });
  const conductor = conductorService({ database: deps.database, clock: deps.clock, stepRedemptions: reports.stepRedemptions });
  const contacts = contactsService({
    database: deps.database,
    segmentation,
    runsOf: async (accountId, contactId) => (await conductor.runsOfContact(accountId, contactId)).map(enrollmentView),
    scopeOf: (principal) => conductor.scopeOf(principal),
  });
  const { config } = deps;
  const secret = installationSecret(deps.database, config.SECRET_KEY);
  // Outgoing webhooks: events are queued in the transaction of their cause (webhooks.sql.ts).
  const webhooks = webhooksService({
    database: deps.database,
    clock: deps.clock,
    secret,
    policy: {
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS ?? 8,
      baseDelayMs: (config.WEBHOOK_RETRY_SECONDS ?? 30) * 1000,
      maxDelayMs: 3_600_000,
      batchSize: 100,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE ?? false,
    },
  });
  const suppressions = suppressionsService({ database: deps.database, clock: deps.clock });
  const outbox = outboxService({
    database: deps.database,
    clock: deps.clock,
    transport:
      deps.transport ??
      mailTransport(config.SMTP_URL, {
        pool: config.MAIL_CONCURRENCY ?? 8,
        dkim:
          config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
            ? { domain: config.DKIM_DOMAIN, selector: config.DKIM_SELECTOR, privateKey: config.DKIM_PRIVATE_KEY }
            : undefined,
      }),
    concurrency: Math.max(1, config.MAIL_CONCURRENCY ?? 8),
    ratePerSecond: config.MAIL_RATE_PER_SECOND,
    retry: { maxAttempts: config.MAIL_MAX_ATTEMPTS ?? 6, baseDelayMs: (config.MAIL_RETRY_SECONDS ?? 60) * 1000, maxDelayMs: 3_600_000 },
    messageIdDomain: config.PUBLIC_URL ? new URL(config.PUBLIC_URL).hostname : 'couponflow.localhost',
    visibleConversations: (principal) => conductor.visibleConversations(principal),
    // Test sends of messages that read no coupon field of another merchant (messages is set below).
    visibleTestMessages: async (principal) => {
      const readsHidden = await conductor.readsHiddenFields(principal);
      if (!readsHidden) return undefined;
      return (await messages.allMessages(principal.accountId)).filter((m) => !readsHidden(m)).map((m) => m.id);
    },
    bounces: {
      suppress: (tx, accountId, email, detail) => suppressions.suppressWithin(tx, accountId, email, 'bounced', detail),
      onReleased: async (_accountId, poolKeys) => {
        for (const pool of await pools.findByKeys(poolKeys)) await assignments.checkNotices(pool);
      },
    },
  });
  const notificationsFrom = { name: config.MAIL_FROM_NAME ?? 'Couponflow', email: config.MAIL_FROM_EMAIL ?? 'couponflow@localhost' };
  const assignments = assignmentsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    pools,
    contacts,
    // One notice mail per address on the pool's list, written in the transaction that disarms it.
    notify: async (tx, notice) => {
      const mail = noticeMail(notice);
      await outbox.enqueue(
        tx,
        notice.pool.notificationEmails.map((to) => ({
          accountId: notice.accountId,
          merchantId: notice.pool.merchantId,
          kind: 'notification' as const,
          to,
          from: notificationsFrom,
          ...mail,
        })),
      );
      const pool = {
        poolId: notice.pool.id,
        merchantId: notice.pool.merchantId,
        name: notice.pool.name,
        available: notice.available,
        threshold: notice.pool.threshold,
      };
      await webhooks.enqueue(tx, notice.accountId, [
        {
          type: notice.kind === 'exhausted' ? 'pool.exhausted' : 'pool.low',
          data: { ...pool, runsOutAt: notice.runsOutAt?.toISOString() ?? null },
        },
      ]);
    },
    // code.assigned: one insert per batch, and only rows for webhooks that subscribe. A batch of an
    // account without such a webhook asks that first (one small read) instead of sending its events
    // (a conductor batch of 1,000 assignments: 0.4 MB of JSON that the insert parsed to write nothing).
    onAssigned: async (tx, pool, made) => {
      if (made.length > 1 && !(await webhooks.subscribes(tx, pool.accountId, 'code.assigned'))) return;
      await webhooks.enqueue(
        tx,
        pool.accountId,
        made.map((a) => ({
          type: 'code.assigned' as const,
          data: assignedEventData<unknown>(pool, { ...a, expiresAt: a.expiresAt?.toISOString() ?? null }),
        })),
      );
    },
  });
  // Rendering runs on worker threads (started on first use), shared by previews and the conductor.
  const renderPool = createRenderPool({ threads: config.RENDER_THREADS || defaultRenderThreads() });
  const messages = messagesService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    segmentation,
    contacts,
    renderPool,
    usedBy: (tx, accountId, messageId) => conductor.messageUsedBy(tx, accountId, messageId),
  });
  const redemptions = redemptionsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    ...(counters.redemptions ? { count: counters.redemptions } : {}),
    // In the redemptions' transaction: runs handed the codes end (exitOnRedemption), code.redeemed is queued (one insert).
    onRedeemed: async (tx, accountId, redeemed) => {
      await conductor.exitOnRedemption(
        tx,
        accountId,
        redeemed.flatMap(({ redemption: r, poolKey, codeId, handedByRun }) =>
          handedByRun === false ? [] : [{ poolKey, codeId, code: r.code, contactId: r.contactId }],
        ),
      );
      await webhooks.enqueue(
        tx,
        accountId,
        redeemed.map(({ redemption }) => ({ type: 'code.redeemed' as const, data: redeemedEventData(redemption) })),
      );
    },
    everyRedemption: (q, accountId) => webhooks.subscribes(q, accountId, 'code.redeemed'),
  });
  // Events start and end conversation runs, and record the redemptions their coupon codes name, in the transaction that records them.
  const events = eventsService({
    database: deps.database,
    clock: deps.clock,
    onEvent: (tx, event, merchantIds) =>
      conductor.handleEvent(
        tx,
        { accountId: event.accountId, contactId: event.contactId, type: event.type, properties: event.properties },
        merchantIds,
      ),
    onEvents: (tx, accountId, batch, merchantIds) => conductor.handleEvents(tx, accountId, batch, merchantIds),
    onCoupons: (tx, accountId, merchantIds, batch) => redemptions.recordEvents(tx, accountId, merchantIds, batch),
  });
  const unsubscribe = unsubscribeService({
    database: deps.database,
    clock: deps.clock,
    secret,
    baseUrl: config.PUBLIC_URL ?? 'http://localhost:8080',
    accounts,
    suppressions,
    onUnsubscribed: (tx, accountId, contact) =>
      webhooks
        .enqueue(tx, accountId, [{ type: 'contact.unsubscribed', data: { contactId: contact.id, email: contact.email } }])
        .then(() => undefined),
  });
  const engine = conductorEngine({
    database: deps.database,
    clock: deps.clock,
    assignments,
    outbox,
    renderPool,
    retry: {
      maxAttempts: config.CONDUCTOR_MAX_ATTEMPTS ?? 5,
      baseDelayMs: (config.CONDUCTOR_RETRY_SECONDS ?? 60) * 1000,
      maxDelayMs: 3_600_000,
    },
    marketing: { suppressedAmong: suppressions.suppressedAmong, linkMaker: unsubscribe.linkMaker },
    redeemedCodes: redemptions.redeemedAmong,
  });
  const testSends = testSendService({
    database: deps.database,
    clock: deps.clock,
    messages,
    contacts,
    outbox,
    couponCodeFields: (accountId) => conductor.couponCodeFields(accountId),
  });
  const integrations = integrationsService({ database: deps.database, clock: deps.clock, secret, accounts, redemptions, events });
  const reminders = remindersService({ database: deps.database, clock: deps.clock, events });
  const codes = codesService({ database: deps.database, clock: deps.clock, pools });
  const users = usersService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    sessions,
    enqueueMail: (tx, mails) => outbox.enqueue(tx, mails),
    from: notificationsFrom,
    baseUrl: config.PUBLIC_URL ?? 'http://localhost:8080',
  });
  return {
    audit,
    sessions,
    users,
    webhooks,
    integrations,
    reminders,
    redemptions,
    codes,
    reports,
    accounts,
    pools,
    uploads,
    staticCodes,
    contacts,
    assignments,
    outbox,
    segmentation,
    messages,
    events,
    conductor,
    engine,
    suppressions,
    unsubscribe,
    secret,
    testSends,
    renderPool,
  };
}

export type Services = ReturnType<typeof createServices>;

/** The HTTP app over the services: routes mounted, ready to listen or be injected into. */
export async function createApp(deps: AppDeps) {
  const metrics = createMetrics();
  const redeemed = metrics.counter('redemptions_total', 'Redemptions by source and result (recorded, repeated, or the reason)', [
    'source',
    'result',
  ]);
  const services = createServices(deps, { redemptions: (source, result, n = 1) => redeemed.inc({ source, result }, n) });
  const { accounts, sessions } = services;
  // Generated and kept at first start when SECRET_KEY is unset (a database not answering yet: at first use).
  await services.secret.get().catch(() => undefined);
  // Console sign-in: the Origin of a signed-in change must be this server or PUBLIC_URL.
  const allowedOrigins = deps.config.PUBLIC_URL ? [new URL(deps.config.PUBLIC_URL).origin] : [];
  const http: HttpApp = await createHttpApp({
    logger: deps.logger ?? createLogger(deps.config),
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    uploadLimit: deps.config.UPLOAD_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY ?? false,
    authHook: authHook(accounts.authenticate, { cookieName: SESSION_COOKIE, resolve: sessions.resolve, allowedOrigins }),
    metricsAllowed: (request) => request.principal?.installationAdmin === true,
    metrics,
    health: async () => {
      try {
        await sql`select 1`.execute(deps.database.db);
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
  });
  // Before the routes: every state-changing call carries its audit entry (modules/audit).
  auditHook(http, services.audit);
  await mountRoutes(http, deps, services, allowedOrigins);
  http.addHook('onClose', () => services.renderPool.close());
  await http.ready();
  return { http, services, metrics };
}

export type App = Awaited<ReturnType<typeof createApp>>;

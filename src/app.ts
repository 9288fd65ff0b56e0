import type { Config } from './config.ts';
import type { Clock } from './platform/clock.ts';
import { createHttpApp, type HttpApp } from './platform/http/app.ts';
import { createMetrics } from './platform/metrics.ts';
import { sql } from 'kysely';
import type { AppDatabase } from './schema.ts';
import { accountsService } from './modules/accounts/service.ts';
import { accountsRoutes } from './modules/accounts/routes.ts';
import { consolePlaceholder } from './console.ts';
import { poolsService } from './modules/pools/service.ts';
import { poolsRoutes } from './modules/pools/routes.ts';
import { uploadsService } from './modules/uploads/service.ts';
import { uploadsRoutes } from './modules/uploads/routes.ts';
import { staticCodesService } from './modules/pools/static-codes.ts';
import { staticCodesRoutes } from './modules/pools/static-routes.ts';
import { contactsService } from './modules/contacts/service.ts';
import { assignmentsService } from './modules/assignments/service.ts';
import { assignmentsRoutes } from './modules/assignments/routes.ts';
import { noticeMail } from './modules/assignments/notices.ts';
import { outboxService } from './modules/outbox/service.ts';
import { outboxRoutes } from './modules/outbox/routes.ts';
import { mailTransport, type MailTransport } from './platform/mail/transport.ts';

type MailSettings = 'SMTP_URL' | 'MAIL_FROM_EMAIL' | 'MAIL_FROM_NAME' | 'MAIL_MAX_ATTEMPTS' | 'MAIL_RETRY_SECONDS' | 'PUBLIC_URL';

export interface AppDeps {
  config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'UPLOAD_LIMIT_BYTES' | 'DEFAULT_TIME_ZONE'> & Partial<Pick<Config, MailSettings>>;
  database: AppDatabase;
  clock: Clock;
  /** Where mail goes; by default from SMTP_URL (unset: kept in the outbox). */
  transport?: MailTransport;
}

/** The composition root: every service, built from its dependencies (no HTTP). */
export function createServices(deps: AppDeps) {
  const accounts = accountsService(deps.database);
  const pools = poolsService({ database: deps.database, clock: deps.clock, accounts });
  const uploads = uploadsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    pools,
    onImported: (pool) => assignments.checkNotices(pool),
  });
  const staticCodes = staticCodesService({ database: deps.database, accounts, pools });
  const contacts = contactsService({ database: deps.database });
  const { config } = deps;
  const outbox = outboxService({
    database: deps.database,
    clock: deps.clock,
    transport: deps.transport ?? mailTransport(config.SMTP_URL),
    retry: { maxAttempts: config.MAIL_MAX_ATTEMPTS ?? 6, baseDelayMs: (config.MAIL_RETRY_SECONDS ?? 60) * 1000, maxDelayMs: 3_600_000 },
    messageIdDomain: config.PUBLIC_URL ? new URL(config.PUBLIC_URL).hostname : 'couponflow.localhost',
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
    },
  });
  return { accounts, pools, uploads, staticCodes, contacts, assignments, outbox };
}

export type Services = ReturnType<typeof createServices>;

/** The HTTP app over the services: routes mounted, ready to listen or be injected into. */
export async function createApp(deps: AppDeps) {
  const metrics = createMetrics();
  const services = createServices(deps);
  const { accounts, pools, uploads, staticCodes, assignments, outbox } = services;
  const http: HttpApp = await createHttpApp({
    logLevel: deps.config.LOG_LEVEL,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    uploadLimit: deps.config.UPLOAD_LIMIT_BYTES,
    authenticate: accounts.authenticate,
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
  accountsRoutes(http, accounts);
  poolsRoutes(http, pools);
  uploadsRoutes(http, uploads);
  staticCodesRoutes(http, staticCodes);
  assignmentsRoutes(http, assignments);
  outboxRoutes(http, outbox);
  consolePlaceholder(http);
  await http.ready();
  return { http, services, metrics };
}

export type App = Awaited<ReturnType<typeof createApp>>;

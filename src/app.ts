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

export interface AppDeps {
  config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'UPLOAD_LIMIT_BYTES' | 'DEFAULT_TIME_ZONE'>;
  database: AppDatabase;
  clock: Clock;
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
  const assignments = assignmentsService({
    database: deps.database,
    clock: deps.clock,
    accounts,
    pools,
    contacts,
    notify: async () => {
      throw new Error('TODO wire the outbox');
    },
  });
  return { accounts, pools, uploads, staticCodes, contacts, assignments };
}

export type Services = ReturnType<typeof createServices>;

/** The HTTP app over the services: routes mounted, ready to listen or be injected into. */
export async function createApp(deps: AppDeps) {
  const metrics = createMetrics();
  const services = createServices(deps);
  const { accounts, pools, uploads, staticCodes, assignments } = services;
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
  consolePlaceholder(http);
  await http.ready();
  return { http, services, metrics };
}

export type App = Awaited<ReturnType<typeof createApp>>;

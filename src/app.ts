import type { Config } from './config.ts';
import type { Clock } from './platform/clock.ts';
import { createHttpApp, type HttpApp } from './platform/http/app.ts';
import { createMetrics } from './platform/metrics.ts';
import { sql } from 'kysely';
import type { AppDatabase } from './schema.ts';
import { accountsService } from './modules/accounts/service.ts';
import { accountsRoutes } from './modules/accounts/routes.ts';
import { consolePlaceholder } from './console.ts';

export interface AppDeps {
  config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'DEFAULT_TIME_ZONE'>;
  database: AppDatabase;
  clock: Clock;
}

/** The composition root: services built from their dependencies, routes mounted on one app. */
export async function createApp(deps: AppDeps) {
  const metrics = createMetrics();
  const accounts = accountsService(deps.database);
  const http: HttpApp = await createHttpApp({
    logLevel: deps.config.LOG_LEVEL,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
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
  consolePlaceholder(http);
  await http.ready();
  return { http, services: { accounts }, metrics };
}

export type App = Awaited<ReturnType<typeof createApp>>;

import type { Config } from './config.ts';
import { openDatabase } from './platform/db/database.ts';
import { migrate } from './platform/db/migrate.ts';
import { retryOnConnectionLoss } from './platform/db/errors.ts';
import { scheduleVacuum } from './platform/db/maintenance.ts';
import { systemClock } from './platform/clock.ts';
import { migrations } from './migrations/index.ts';
import type { AppDatabase, DB } from './schema.ts';
import { createApp, createServices } from './app.ts';
import { startBackgroundJobs } from './jobs.ts';
import { createLogger, type Logger } from './platform/logger.ts';

export async function openAppDatabase(config: Config, logger?: Logger): Promise<AppDatabase> {
  return openDatabase<DB>({
    logger,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    schema: config.DATABASE_SCHEMA,
    poolSize: config.DATABASE_POOL_SIZE,
  });
}

/**
 * Migrates at start. A database that is restarting just then (a failover, a rolling restart) is
 * waited for, up to a minute, instead of ending the process; each migration is its own transaction
 * that re-checks what is applied, so a retry is safe.
 */
export async function migrateDatabase(database: AppDatabase, config: Config, logger: Logger): Promise<number[]> {
  return retryOnConnectionLoss(() => migrate(database.db as never, migrations, config.DATABASE_SCHEMA), {
    giveUpAfterMs: 60_000,
    maxDelayMs: 5_000,
    onRetry: (err, attempt) => {
      if (attempt === 1 || attempt % 10 === 0) logger.warn({ err, attempt }, 'database unavailable at start; retrying');
    },
  });
}

const jobsConfig = (config: Config) => ({
  poolCheckIntervalMs: config.POOL_CHECK_INTERVAL_SECONDS * 1000,
  mailSendIntervalMs: config.MAIL_SEND_INTERVAL_SECONDS * 1000,
  conductorPollIntervalMs: config.CONDUCTOR_POLL_INTERVAL_MS,
  conductorBatchSize: config.CONDUCTOR_BATCH_SIZE,
  webhookSendIntervalMs: config.WEBHOOK_SEND_INTERVAL_SECONDS * 1000,
  reminderIntervalMs: config.REMINDER_INTERVAL_SECONDS * 1000,
  auditPruneIntervalMs: 3_600_000,
});

/** Stops on SIGTERM/SIGINT: no new work, in-flight work finished, then the database closed. */
function onShutdown(stop: () => Promise<void>, timeoutMs: number, logger: Logger) {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      // A second signal while closing: the operator insists.
      logger.warn({ signal }, `${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `${signal}: shutting down…`);
    const force = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config);
  const database = await openAppDatabase(config, logger);
  await migrateDatabase(database, config, logger);
  const app = await createApp({ config, database, clock: systemClock, logger });
  const boot = await app.services.accounts.bootstrap({ token: config.COUPONFLOW_BOOTSTRAP_TOKEN, timeZone: config.DEFAULT_TIME_ZONE });
  const stopVacuum =
    database.engine === 'pglite'
      ? scheduleVacuum(database.db as never, config.VACUUM_INTERVAL_SECONDS * 1000, (err) => logger.error({ err }, 'vacuum failed'))
      : () => {};
  const stopJobs = config.SERVE_WORKERS ? startBackgroundJobs(app.services, jobsConfig(config), logger) : async () => {};
  onShutdown(
    async () => {
      stopVacuum();
      await app.http.close();
      await stopJobs();
      app.services.outbox.close();
      await database.close();
    },
    config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logger,
  );

  const address = await app.http.listen({ port: config.PORT, host: config.HOST });
  const url = config.PUBLIC_URL ?? `http://localhost:${(app.http.server.address() as { port: number }).port}`;
  const storage = database.engine === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL';
  const lines = [``, `Couponflow is running at ${url} (listening on ${address}; storage: ${storage})`];
  if (boot.created) {
    const shown = config.COUPONFLOW_BOOTSTRAP_TOKEN ? '(the token from COUPONFLOW_BOOTSTRAP_TOKEN)' : boot.token;
    lines.push(
      `First start: created account "${boot.account.name}" (${boot.account.id}), merchant "${boot.merchant.name}" and an admin token.`,
      `Sign in at ${url} with the admin token below; it is shown only this once, so keep it:`,
      `  curl -H "Authorization: Bearer ${shown}" ${url}/v1/merchants`,
      `  ${shown}`,
    );
    // The owner's console sign-in: a one-time link (7 days) to set the password of OWNER_EMAIL.
    const owner = await app.services.users.bootstrapOwner(boot.account.id, config.OWNER_EMAIL, url).catch((err: Error) => {
      logger.error({ err }, 'creating the owner user failed');
      return undefined;
    });
    if (owner && 'url' in owner) {
      lines.push(
        `The owner user ${config.OWNER_EMAIL} (OWNER_EMAIL) signs in with email and password; set the password once through this link (valid 7 days):`,
        `  ${owner.url}`,
      );
    }
  } else {
    lines.push(
      `Sign in with the admin token printed at first start. Lost it? Stop the server and run`,
      `  npx couponflow token create --account <account id> --installation-admin`,
    );
  }
  console.log(lines.join('\n'));
}

/** `couponflow worker`: background work only, to scale out beside `serve`. */
export async function worker(config: Config): Promise<void> {
  const logger = createLogger(config);
  const database = await openAppDatabase(config, logger);
  await migrateDatabase(database, config, logger);
  const stopVacuum =
    database.engine === 'pglite'
      ? scheduleVacuum(database.db as never, config.VACUUM_INTERVAL_SECONDS * 1000, (err) => logger.error({ err }, 'vacuum failed'))
      : () => {};
  const services = createServices({ config, database, clock: systemClock });
  // Kept once read here; otherwise every batch with a message step would read it inside its transaction.
  await services.secret.get().catch(() => undefined);
  const stopJobs = startBackgroundJobs(services, jobsConfig(config), logger);
  const keepAlive = setInterval(() => {}, 1 << 30);
  onShutdown(
    async () => {
      stopVacuum();
      clearInterval(keepAlive);
      await stopJobs();
      services.outbox.close();
      await database.close();
    },
    config.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    logger,
  );
  logger.info({ pid: process.pid }, 'Couponflow worker started');
}

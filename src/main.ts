import { Command } from 'commander';
import { loadConfig, ConfigError } from './config.ts';
import { DataDirInUseError } from './platform/db/datadir-lock.ts';
import { DomainError } from './platform/errors.ts';
import { migrateDatabase, openAppDatabase, serve, worker } from './runtime.ts';
import { EXIT_SCHEMA_TOO_NEW, SchemaTooNewError } from './platform/db/migrate.ts';
import { accountsService } from './modules/accounts/service.ts';
import type { AppDatabase } from './schema.ts';
import { poolsCommands } from './cli/pools.ts';
import { contactsCommands } from './cli/contacts.ts';
import { ApiClient, CliError } from './cli/api-client.ts';
import { usersCommands } from './cli/users.ts';
import { backupCommands } from './cli/backup.ts';
import { ROLES, type Role } from './modules/accounts/permissions.ts';
import type { Config } from './config.ts';
import { createLogger } from './platform/logger.ts';

const program = new Command('couponflow').description('Coupon pools, distribution and conversations').showHelpAfterError();

/**
 * For commands that work on the database directly, then close it. While `serve` owns an embedded
 * data dir, `viaApi` does the same through the server's API when COUPONFLOW_TOKEN is set;
 * without it, the refusal says how.
 */
async function withDatabase<T>(
  fn: (database: AppDatabase, config: Config) => Promise<T>,
  viaApi?: (api: ApiClient) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config, { stream: 'stderr' });
  let database: AppDatabase;
  try {
    database = await openAppDatabase(config, logger);
  } catch (err) {
    if (!(err instanceof DataDirInUseError) || !viaApi) throw err;
    if (!process.env.COUPONFLOW_TOKEN) {
      throw new CliError(
        `${err.message.split('. ')[0]}. Set COUPONFLOW_TOKEN (and COUPONFLOW_URL) and run this again: it will go through that server's API.`,
      );
    }
    return viaApi(ApiClient.fromEnv());
  }
  try {
    await migrateDatabase(database, config, logger);
    return await fn(database, config);
  } finally {
    await database.close();
  }
}

program
  .command('serve', { isDefault: true })
  .description('run the API, the console and the background workers')
  .action(() => serve(loadConfig()));

program
  .command('worker')
  .description('run the background workers only (to scale out beside serve)')
  .action(() => worker(loadConfig()));

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const config = loadConfig();
    const logger = createLogger(config, { stream: 'stderr' });
    let database: AppDatabase;
    try {
      database = await openAppDatabase(config, logger);
    } catch (err) {
      if (!(err instanceof DataDirInUseError)) throw err;
      // PGlite has one owner: the running server, which migrated the database when it started.
      console.log(
        `${err.message.split('. ')[0]}. That server applied its migrations when it started; restart it to apply newer ones (serve migrates at start).`,
      );
      return;
    }
    try {
      const applied = await migrateDatabase(database, config, logger);
      console.log(applied.length ? `applied migrations ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await database.close();
    }
  });

const accounts = program.command('accounts').description('manage accounts');
accounts
  .command('create')
  .description('create an account and print its admin token (alone on the last line)')
  .requiredOption('--name <name>', 'account name')
  .option('--time-zone <zone>', 'IANA time zone for plain dates', 'UTC')
  .action((options: { name: string; timeZone: string }) =>
    withDatabase(
      async (database) => {
        const { account, token } = await accountsService(database).createAccountFromCli({ name: options.name, timeZone: options.timeZone });
        console.log(`created account ${account.name} (${account.id}); its admin token:`);
        console.log(token);
      },
      async (api) => {
        const created = await api.request<{ id: string; name: string; token: string }>('POST', '/v1/accounts', {
          name: options.name,
          timeZone: options.timeZone,
        });
        console.log(`created account ${created.name} (${created.id}) through ${api.baseUrl}; its admin token:`);
        console.log(created.token);
      },
    ),
  );

const token = program.command('token').description('manage API tokens');
token
  .command('create')
  .description('create a token for an account and print it (alone on the last line)')
  .option('--account <id>', 'account id (needed on the database; through the API, the account of COUPONFLOW_TOKEN)')
  .option('--merchant <id...>', 'limit the token to these merchants')
  .option('--name <name>', 'a label for the token', 'cli')
  .option('--role <role>', `one of ${ROLES.join(', ')}`, 'owner')
  .option('--installation-admin', 'the token may create accounts and read /metrics (to recover a lost admin token)')
  .action((options: { account?: string; merchant?: string[]; name: string; role: string; installationAdmin?: boolean }) => {
    if (options.installationAdmin && options.merchant) throw new CliError('an installation admin token cannot be limited to merchants');
    if (!(ROLES as readonly string[]).includes(options.role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
    if (options.installationAdmin && options.role !== 'owner') throw new CliError('an installation admin token is an owner');
    const role = options.role as Role;
    return withDatabase(
      async (database) => {
        if (!options.account) throw new CliError('--account <id> is required when the CLI opens the database itself');
        const created = await accountsService(database).createToken({
          accountId: options.account,
          merchantIds: options.merchant,
          name: options.name,
          role,
          installationAdmin: options.installationAdmin,
        });
        console.log(
          `created a token for account ${options.account}${options.merchant ? ` limited to ${options.merchant.join(', ')}` : ''}:`,
        );
        console.log(created);
      },
      async (api) => {
        if (options.installationAdmin)
          throw new CliError('--installation-admin needs the database: stop the server first (the API never hands out that right)');
        const created = await api.request<{ id: string; token: string }>('POST', '/v1/tokens', {
          name: options.name,
          role,
          ...(options.merchant && { merchantIds: options.merchant }),
        });
        console.log(
          `created token ${created.id} through ${api.baseUrl}${options.merchant ? ` limited to ${options.merchant.join(', ')}` : ''}:`,
        );
        console.log(created.token);
      },
    );
  });

poolsCommands(program);
contactsCommands(program);
usersCommands(program, withDatabase);
backupCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof SchemaTooNewError) {
    console.error(`couponflow: ${err.message}`);
    process.exit(EXIT_SCHEMA_TOO_NEW);
  }
  if (err instanceof ConfigError || err instanceof DataDirInUseError || err instanceof DomainError || err instanceof CliError) {
    console.error(`couponflow: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});

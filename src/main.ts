import { Command } from 'commander';
import { loadConfig, ConfigError } from './config.ts';
import { DataDirInUseError } from './platform/db/datadir-lock.ts';
import { DomainError } from './platform/errors.ts';
import { migrateDatabase, openAppDatabase, serve, worker } from './runtime.ts';
import { accountsService } from './modules/accounts/service.ts';
import type { AppDatabase } from './schema.ts';
import { poolsCommands } from './cli/pools.ts';
import { contactsCommands } from './cli/contacts.ts';

const program = new Command('couponflow').description('Coupon pools, distribution and conversations').showHelpAfterError();

/** For commands that work on the database directly, then close it. */
async function withDatabase<T>(fn: (database: AppDatabase) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openAppDatabase(config);
  try {
    await migrateDatabase(database, config);
    return await fn(database);
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
    const database = await openAppDatabase(config);
    try {
      const applied = await migrateDatabase(database, config);
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
    withDatabase(async (database) => {
      const { account, token } = await accountsService(database).createAccountFromCli({ name: options.name, timeZone: options.timeZone });
      console.log(`created account ${account.name} (${account.id}); its admin token:`);
      console.log(token);
    }),
  );

const token = program.command('token').description('manage API tokens');
token
  .command('create')
  .description('create a token for an account and print it (alone on the last line)')
  .requiredOption('--account <id>', 'account id')
  .option('--merchant <id...>', 'limit the token to these merchants')
  .option('--name <name>', 'a label for the token', 'cli')
  .option('--installation-admin', 'the token may create accounts and read /metrics (to recover a lost admin token)')
  .action((options: { account: string; merchant?: string[]; name: string; installationAdmin?: boolean }) =>
    withDatabase(async (database) => {
      if (options.installationAdmin && options.merchant) throw new Error('an installation admin token cannot be limited to merchants');
      const created = await accountsService(database).createToken({
        accountId: options.account,
        merchantIds: options.merchant,
        name: options.name,
        installationAdmin: options.installationAdmin,
      });
      console.log(`created a token for account ${options.account}${options.merchant ? ` limited to ${options.merchant.join(', ')}` : ''}:`);
      console.log(created);
    }),
  );

poolsCommands(program);
contactsCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DataDirInUseError || err instanceof DomainError) {
    console.error(`couponflow: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});

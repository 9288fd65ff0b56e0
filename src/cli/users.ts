import type { Command } from 'commander';
import { createServices } from '../app.ts';
import type { Config } from '../config.ts';
import { systemClock } from '../platform/clock.ts';
import type { AppDatabase } from '../schema.ts';
import { ROLES, type Role } from '../modules/accounts/permissions.ts';
import { ownerPrincipal } from '../modules/accounts/principal.ts';
import type { UserView } from '../modules/users/model.ts';
import { CliError, type ApiClient } from './api-client.ts';
import { formatTable } from './table.ts';

type WithDatabase = <T>(fn: (database: AppDatabase, config: Config) => Promise<T>, viaApi?: (api: ApiClient) => Promise<T>) => Promise<T>;

/** On the database: the services of the account named by --account, acting as an owner named "cli". */
async function withUsers<T>(database: AppDatabase, config: Config, fn: (services: ReturnType<typeof createServices>) => Promise<T>) {
  const services = createServices({ config, database, clock: systemClock });
  try {
    return await fn(services);
  } finally {
    services.outbox.close();
    await services.renderPool.close();
  }
}

const needAccount = (account: string | undefined) => {
  if (!account) throw new CliError('--account <id> is required when the CLI opens the database itself');
  return account;
};

const printUsers = (items: UserView[]) =>
  console.log(
    items.length
      ? formatTable(
          items.map((u) => ({
            id: u.id,
            email: u.email,
            role: u.role,
            merchants: u.merchantIds ? u.merchantIds.join(',') : 'all',
            status: u.status,
          })),
        )
      : 'no users',
  );

/** `couponflow users invite|list`: on the database, or through the API while serve owns the PGlite data dir. */
export function usersCommands(program: Command, withDatabase: WithDatabase) {
  const users = program.command('users').description('console users (invited by email)');

  users
    .command('invite')
    .description('invite a user: an invitation mail with a one-time link to set a password (valid 7 days)')
    .requiredOption('--email <address>', 'their email address')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--merchant <id...>', 'limit them to these merchants')
    .option('--account <id>', 'account id (needed on the database; through the API, the account of COUPONFLOW_TOKEN)')
    .action((options: { email: string; role: string; merchant?: string[]; account?: string }) => {
      if (!(ROLES as readonly string[]).includes(options.role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
      const body = { email: options.email, role: options.role as Role, ...(options.merchant && { merchantIds: options.merchant }) };
      const done = (u: UserView, where: string) => {
        console.log(`invited ${u.email} as ${u.role}${where}; the invitation mail is in the outbox (or on its way by SMTP). User id:`);
        console.log(u.id);
      };
      return withDatabase(
        (database, config) =>
          withUsers(database, config, async (services) =>
            done(await services.users.invite(ownerPrincipal(needAccount(options.account), 'cli'), body), ''),
          ),
        async (api) => done(await api.request<UserView>('POST', '/v1/users', body), ` through ${api.baseUrl}`),
      );
    });

  users
    .command('list')
    .description("list the account's users")
    .option('--account <id>', 'account id (needed on the database)')
    .action((options: { account?: string }) =>
      withDatabase(
        (database, config) =>
          withUsers(database, config, async (services) => {
            const page = await services.users.list(ownerPrincipal(needAccount(options.account), 'cli'), { limit: 500 });
            printUsers(page.items);
          }),
        async (api) => printUsers((await api.request<{ items: UserView[] }>('GET', '/v1/users?limit=500')).items),
      ),
    );
}

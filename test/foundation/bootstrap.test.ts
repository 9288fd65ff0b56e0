import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine, describePostgres } from '../helpers/engines.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { accountsService } from '../../src/modules/accounts/service.ts';
import type { DB } from '../../src/schema.ts';

/**
 * First start on PostgreSQL, where several `serve` processes may start together on an empty
 * database: exactly one account, merchant and installation admin come out of it.
 */
describePostgres('bootstrap', (ctx) => {
  it('calls racing from separate connection pools on a fresh schema create exactly one account', async () => {
    // Two more pools beside the suite's own, as separate processes would have.
    const others = await Promise.all(
      [1, 2].map(() => openDatabase<DB>({ databaseUrl: ctx.env.DATABASE_URL, dataDir: '', schema: ctx.schema, poolSize: 3 })),
    );
    try {
      const services = [ctx.database, ...others].map((database) => accountsService(database));
      const results = await Promise.all(services.flatMap((s) => [1, 2, 3].map(() => s.bootstrap({ timeZone: 'UTC' }))));
      const created = results.filter((r) => r.created);
      expect(results).toHaveLength(9);
      expect(created).toHaveLength(1);

      const counts = await sql<{ accounts: number; merchants: number; admins: number; tokens: number }>`
        select (select count(*) from accounts)::int as accounts,
               (select count(*) from merchants)::int as merchants,
               (select count(*) from tokens where installation_admin)::int as admins,
               (select count(*) from tokens)::int as tokens`.execute(ctx.database.db);
      expect(counts.rows[0]).toEqual({ accounts: 1, merchants: 1, admins: 1, tokens: 1 });

      // The one token handed out is the installation admin's, whichever pool asks.
      const winner = created[0]!;
      if (!winner.created) throw new Error('unreachable');
      for (const s of services)
        expect(await s.authenticate(winner.token)).toMatchObject({
          accountId: winner.account.id,
          installationAdmin: true,
          merchantIds: null,
        });
      // And a later start creates nothing more.
      expect(await services[1]!.bootstrap({ timeZone: 'UTC' })).toEqual({ created: false });
    } finally {
      await Promise.all(others.map((d) => d.close()));
    }
  });
});

describeEachEngine('bootstrap after accounts were created from the CLI', (ctx) => {
  it('still creates the installation admin, and a recovery token can be minted', async () => {
    const accounts = accountsService(ctx.database);
    await accounts.createAccountFromCli({ name: 'made before the first start' });
    const boot = await accounts.bootstrap({ timeZone: 'UTC' });
    expect(boot.created).toBe(true);
    if (!boot.created) throw new Error('unreachable');
    expect(await accounts.authenticate(boot.token)).toMatchObject({ installationAdmin: true });
    const recovery = await accounts.createToken({ accountId: boot.account.id, installationAdmin: true });
    expect(await accounts.authenticate(recovery)).toMatchObject({ installationAdmin: true, merchantIds: null });
    const plain = await accounts.createToken({ accountId: boot.account.id });
    expect(await accounts.authenticate(plain)).toMatchObject({ installationAdmin: false });
  });
});

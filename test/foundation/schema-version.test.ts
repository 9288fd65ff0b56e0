import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { EXIT_SCHEMA_TOO_NEW, migrate, SchemaTooNewError } from '../../src/platform/db/migrate.ts';
import { migrations } from '../../src/migrations/index.ts';
import { runCli } from './processes.ts';

/** serve and worker refuse a database that a newer build migrated: a clear message, exit code 3. */
describePostgres('a schema migrated by a newer version', (ctx) => {
  const newer = migrations.length + 1;

  it('migrate() refuses before applying anything; serve and worker exit with EXIT_SCHEMA_TOO_NEW and say why', async () => {
    const db = ctx.database.db;
    await sql`insert into schema_migrations (version, name) values (${newer}, 'from-the-future')`.execute(db);
    await expect(migrate(db as never, migrations, ctx.schema)).rejects.toBeInstanceOf(SchemaTooNewError);
    for (const command of ['serve', 'worker']) {
      const run = await runCli([command], { ...ctx.env, PORT: '0', SERVE_WORKERS: 'false' });
      expect(run.code, `${command}: ${run.stderr}`).toBe(EXIT_SCHEMA_TOO_NEW);
      expect(run.stderr).toContain(`migrated by a newer Couponflow (schema version ${newer}; this build knows up to ${migrations.length})`);
    }
    const rows = await sql<{ version: number }>`select version from schema_migrations order by version`.execute(db);
    expect(rows.rows.map((r) => r.version)).toEqual([...migrations.map((m) => m.version), newer]);
  }, 300_000);

  it('the schema of this build starts as usual (the check lets equal versions through)', async () => {
    const db = ctx.database.db;
    await sql`delete from schema_migrations where version = ${newer}`.execute(db);
    expect(await migrate(db as never, migrations, ctx.schema)).toEqual([]);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { describeEachEngine, describePostgres, openTestDatabase, randomSchema, TEST_DATABASE_URL, type TestDatabase } from '../helpers/engines.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { openDatabase, type Engine } from '../../src/platform/db/database.ts';
import { migrations } from '../../src/migrations/index.ts';
import type { DB } from '../../src/schema.ts';
import { runCli } from './processes.ts';

const allVersions = migrations.map((m) => m.version);

/**
 * Everything a migration can create in the current schema, from the catalog, with the schema's own
 * name taken out (so two schemas on one server compare equal), plus the migration bookkeeping.
 */
async function snapshot(db: Kysely<unknown>, options: { withAppliedAt: boolean } = { withAppliedAt: true }) {
  const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(db)).rows;
  const [{ schema }] = (await rows(sql<{ schema: string }>`select current_schema() as schema`)) as [{ schema: string }];
  const catalog = {
    relations: await rows(sql`
      select c.relname as name, c.relkind as kind, c.relpersistence as persistence
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() order by 1`),
    columns: await rows(sql`
      select c.relname as table, a.attnum as position, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
             a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default_value, a.attidentity as identity, a.attgenerated as generated
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped
      order by 1, 2`),
    indexes: await rows(sql`select tablename, indexname, indexdef from pg_indexes where schemaname = current_schema() order by 1, 2`),
    constraints: await rows(sql`
      select c.relname as table, k.conname as name, k.contype as type, pg_get_constraintdef(k.oid) as definition
      from pg_constraint k join pg_namespace n on n.oid = k.connamespace left join pg_class c on c.oid = k.conrelid
      where n.nspname = current_schema() order by 1, 2`),
    triggers: await rows(sql`
      select c.relname as table, t.tgname as name, pg_get_triggerdef(t.oid) as definition
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and not t.tgisinternal order by 1, 2`),
    functions: await rows(sql`
      select p.proname as name, pg_get_function_identity_arguments(p.oid) as args, md5(p.prosrc) as body
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = current_schema() order by 1, 2`),
    types: await rows(sql`
      select t.typname as name, t.typtype as type from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = current_schema() and t.typtype in ('e', 'd', 'r', 'm') order by 1`),
  };
  const migrationsRows = await rows(
    sql<{ version: number; name: string; applied_at: Date }>`select version, name, applied_at from schema_migrations order by version`,
  );
  const unqualified = JSON.parse(JSON.stringify(catalog).replaceAll(`${schema}.`, '')) as typeof catalog;
  return {
    ...unqualified,
    schema_migrations: options.withAppliedAt ? migrationsRows : migrationsRows.map(({ version, name }) => ({ version, name })),
  };
}

/** What a set of racing `migrate` calls applied between them: each version once, all of them. */
function expectEachAppliedOnce(appliedByEach: number[][]) {
  const all = appliedByEach.flat().sort((a, b) => a - b);
  expect(all).toEqual(allVersions);
}

const opened: TestDatabase[] = [];
const fresh = async (engine: Engine) => {
  const test = await openTestDatabase(engine);
  opened.push(test);
  return test;
};
afterAll(async () => {
  for (const test of opened) await test.close();
});

describeEachEngine(
  'migrations',
  (ctx) => {
    it('apply every migration once; a second run applies nothing and changes nothing', async () => {
      const db = ctx.database.db as Kysely<unknown>;
      expect(await migrate(db, migrations, ctx.schema)).toEqual(allVersions);
      const before = await snapshot(db);
      expect(before.relations.length).toBeGreaterThan(allVersions.length);
      expect(before.schema_migrations.map((m) => m.version)).toEqual(allVersions);

      expect(await migrate(db, migrations, ctx.schema)).toEqual([]);
      expect(await snapshot(db)).toEqual(before);
    });

    it('an upgrade from an earlier version ends exactly where a fresh install does', async () => {
      const installed = await snapshot(ctx.database.db as Kysely<unknown>, { withAppliedAt: false });
      // A PostgreSQL schema is cheap, a PGlite instance is not: every earlier version on the one,
      // the previous version (the usual upgrade) on the other.
      const from = ctx.engine === 'postgres' ? allVersions.slice(0, -1) : allVersions.slice(-2, -1);
      for (const done of from) {
        const test = await fresh(ctx.engine);
        const db = test.database.db as Kysely<unknown>;
        expect(await migrate(db, migrations.slice(0, done), test.schema)).toEqual(allVersions.slice(0, done));
        expect(await migrate(db, migrations, test.schema)).toEqual(allVersions.slice(done));
        expect(await snapshot(db, { withAppliedAt: false }), `upgrade from version ${done}`).toEqual(installed);
      }
    }, 120_000); // one fresh schema per earlier version on PostgreSQL: slow on a loaded machine
  },
  { migrated: false },
);

describe('migrations on PGlite', () => {
  it('two migrate() calls at once on one instance both succeed, each migration applied once', async () => {
    const test = await fresh('pglite');
    const db = test.database.db as Kysely<unknown>;
    const results = await Promise.all([migrate(db, migrations, test.schema), migrate(db, migrations, test.schema)]);
    expectEachAppliedOnce(results);
    expect((await snapshot(db)).schema_migrations.map((m) => m.version)).toEqual(allVersions);
  });
});

describePostgres('migrations on PostgreSQL, several at once', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });
  const freshSchema = () => {
    const schema = randomSchema();
    schemas.push(schema);
    return schema;
  };
  const openSchema = (schema: string) => openDatabase<DB>({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema, poolSize: 2 });

  it('two `couponflow migrate` processes started together on a new schema both succeed, each version recorded once', async () => {
    const schema = freshSchema();
    const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
    const runs = await Promise.all([runCli(['migrate'], env), runCli(['migrate'], env)]);
    const applied = runs.map((run) => {
      expect(run.code, run.stderr).toBe(0);
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (line === 'database is up to date') return [];
      const match = /^applied migrations ([\d, ]+)$/.exec(line);
      expect(match, run.stdout).not.toBeNull();
      return match![1]!.split(', ').map(Number);
    });
    expectEachAppliedOnce(applied);

    const database = await openSchema(schema);
    const reference = await fresh('postgres');
    try {
      await migrate(reference.database.db as never, migrations, reference.schema);
      const raced = await snapshot(database.db as Kysely<unknown>, { withAppliedAt: false });
      expect(raced.schema_migrations.map((m) => m.version)).toEqual(allVersions);
      expect(raced).toEqual(await snapshot(reference.database.db as Kysely<unknown>, { withAppliedAt: false }));
    } finally {
      await database.close();
    }
  }, 60_000);

  it('four connections pools opening and migrating a new schema at the same instant all succeed', async () => {
    const schema = freshSchema();
    const databases = await Promise.all([1, 2, 3, 4].map(() => openSchema(schema)));
    try {
      const results = await Promise.all(databases.map((d) => migrate(d.db as never, migrations, schema)));
      expectEachAppliedOnce(results);
      const rows = await sql<{ version: number; n: number }>`select version, count(*)::int as n from schema_migrations group by version order by version`.execute(
        databases[0]!.db,
      );
      expect(rows.rows).toEqual(allVersions.map((version) => ({ version, n: 1 })));
    } finally {
      await Promise.all(databases.map((d) => d.close()));
    }
  });
});

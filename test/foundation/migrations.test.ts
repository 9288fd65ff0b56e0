import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import {
  describeEachEngine,
  describePostgres,
  openTestDatabase,
  randomSchema,
  TEST_DATABASE_URL,
  type TestDatabase,
} from '../helpers/engines.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { appliedMigrations, catalogSnapshot } from '../../src/platform/db/catalog.sql.ts';
import { openDatabase, type Engine } from '../../src/platform/db/database.ts';
import { migrations } from '../../src/migrations/index.ts';
import type { DB } from '../../src/schema.ts';
import { runCli } from './processes.ts';

const allVersions = migrations.map((m) => m.version);

/**
 * Everything a migration can create in the current schema, from the catalog, with the schema's own
 * name taken out (so two schemas on one server compare equal), plus the migration bookkeeping.
 * The catalog part is src/platform/db/catalog.sql.ts, which `npm run schema` also renders.
 */
async function snapshot(db: Kysely<unknown>, options: { withAppliedAt: boolean } = { withAppliedAt: true }) {
  const migrationsRows = await appliedMigrations(db);
  return {
    ...(await catalogSnapshot(db)),
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
    }, 120_000); // a fresh PGlite per upgrade (PostgreSQL: a schema per earlier version): slow on a loaded machine
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
      const rows = await sql<{
        version: number;
        n: number;
      }>`select version, count(*)::int as n from schema_migrations group by version order by version`.execute(databases[0]!.db);
      expect(rows.rows).toEqual(allVersions.map((version) => ({ version, n: 1 })));
    } finally {
      await Promise.all(databases.map((d) => d.close()));
    }
  });
});

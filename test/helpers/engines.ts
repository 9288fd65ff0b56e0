import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Engine } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { migrations } from '../../src/migrations/index.ts';
import type { AppDatabase, DB } from '../../src/schema.ts';
import { migratedPglite } from './global-setup.ts';

/**
 * Every storage-facing suite runs on PGlite and on PostgreSQL, like Kysely's own test suite.
 * PostgreSQL: TEST_DATABASE_URL (default the local `test` database), each suite in a schema of its
 * own. With CI set, an unreachable PostgreSQL fails the run instead of skipping it.
 * TEST_ENGINES=pglite (or postgres) narrows the run locally.
 */
const DIRECT_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/**
 * Set by vitest.pgbouncer.config.ts: a PgBouncer in transaction pooling mode in front of
 * PostgreSQL. Each suite then connects as a role of its own (named like its schema) whose
 * search_path is that schema, as an installation behind PgBouncer does (README, "Behind PgBouncer").
 */
export const PGBOUNCER_URL = process.env.TEST_PGBOUNCER_URL;
export const TEST_DATABASE_URL = PGBOUNCER_URL ?? DIRECT_DATABASE_URL;
const selected = (process.env.TEST_ENGINES ?? 'pglite,postgres').split(',').map((e) => e.trim()) as Engine[];

let reachable: Promise<string | undefined> | undefined;
/** undefined when PostgreSQL answers, else why not. */
export function postgresProblem(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL at ${TEST_DATABASE_URL} is unreachable: ${(err as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

const pgProblem = selected.includes('postgres') ? await postgresProblem() : undefined;

export const randomSchema = () => `t_${randomBytes(6).toString('hex')}`;

export interface TestDatabase {
  engine: Engine;
  database: AppDatabase;
  /** PostgreSQL only: the schema this suite lives in, and how another process reaches it. */
  schema: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A fresh, empty (unmigrated) database on `engine`. */
export async function openTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') return openPglite();
  const schema = randomSchema();
  const url = PGBOUNCER_URL ? await suiteRole(schema) : TEST_DATABASE_URL;
  const database = await openDatabase<DB>({ databaseUrl: url, dataDir: '', schema, poolSize: 10 });
  return {
    engine,
    database,
    schema,
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    async close() {
      await database.close();
      await asAdmin(async (admin) => {
        await admin.query(`drop schema if exists ${schema} cascade`);
        if (PGBOUNCER_URL) await admin.query(`drop owned by ${schema}; drop role ${schema}`);
      });
    },
  };
}

async function asAdmin(fn: (admin: pg.Client) => Promise<void>) {
  const admin = new pg.Client({ connectionString: DIRECT_DATABASE_URL });
  await admin.connect();
  try {
    await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Behind PgBouncer: a login role for `schema`, its search_path set on the role; the URL it connects by. */
async function suiteRole(schema: string): Promise<string> {
  await asAdmin(async (admin) => {
    const database = (await admin.query<{ db: string }>('select current_database() as db')).rows[0]!.db;
    await admin.query(`create role ${schema} login; alter role ${schema} set search_path = ${schema}`);
    await admin.query(`grant create on database ${database} to ${schema}`);
  });
  const url = new URL(PGBOUNCER_URL!);
  url.username = schema;
  return url.toString();
}

/**
 * A fresh database on `engine` with every migration applied. On PGlite a copy of one data
 * directory migrated once per run (global-setup.ts): that skips initdb and the migrations, the
 * bulk of opening one (the copy is of what `migrate` made in this run, from these migrations).
 * The suites that test migrating itself open an empty one (`openTestDatabase`, `migrated: false`).
 */
export async function openMigratedDatabase(engine: Engine): Promise<TestDatabase> {
  const template = engine === 'pglite' ? await migratedPglite() : undefined;
  if (template) return openPglite(template);
  const test = await openTestDatabase(engine);
  await migrate(test.database.db as never, migrations, test.schema);
  return test;
}

async function openPglite(loadDataDir?: Blob): Promise<TestDatabase> {
  const database = await openDatabase<DB>({ dataDir: 'memory://', schema: 'public', loadDataDir });
  return { engine: 'pglite', database, schema: 'public', env: {}, close: () => database.close() };
}

export interface EngineContext extends TestDatabase {}

/** Declares `suite` once per engine; the context is filled before the suite's tests run. */
export function describeEachEngine(name: string, suite: (ctx: EngineContext) => void, options: { migrated?: boolean } = {}) {
  for (const engine of (['pglite', 'postgres'] as const).filter((e) => selected.includes(e))) {
    if (engine === 'postgres' && pgProblem) {
      if (process.env.CI) {
        describe(`${name} [postgres]`, () => {
          it('needs PostgreSQL (CI is set, so this fails rather than skips)', () => {
            throw new Error(pgProblem);
          });
        });
      } else {
        describe.skip(`${name} [postgres] (skipped: ${pgProblem})`, () => {});
      }
      continue;
    }
    describe(`${name} [${engine}]`, () => {
      const ctx = {} as EngineContext;
      beforeAll(async () => {
        Object.assign(ctx, options.migrated === false ? await openTestDatabase(engine) : await openMigratedDatabase(engine));
      }, 180_000);
      afterAll(async () => {
        await ctx.close?.();
      });
      suite(ctx);
    });
  }
}

/** Only where PostgreSQL is needed by nature (races between connections or processes). */
export function describePostgres(name: string, suite: (ctx: EngineContext) => void) {
  const keep = selected;
  if (!keep.includes('postgres')) return;
  describeEachEngineOnly('postgres', name, suite);
}

function describeEachEngineOnly(engine: 'postgres', name: string, suite: (ctx: EngineContext) => void) {
  if (pgProblem) {
    if (process.env.CI) {
      describe(`${name} [postgres]`, () =>
        it('needs PostgreSQL', () => {
          throw new Error(pgProblem);
        }));
    } else {
      describe.skip(`${name} [postgres] (skipped: ${pgProblem})`, () => {});
    }
    return;
  }
  describe(`${name} [${engine}]`, () => {
    const ctx = {} as EngineContext;
    beforeAll(async () => Object.assign(ctx, await openMigratedDatabase(engine)), 180_000);
    afterAll(async () => ctx.close?.());
    suite(ctx);
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { migrations } from '../../src/migrations/index.ts';
import { accountsService } from '../../src/modules/accounts/service.ts';
import type { DB } from '../../src/schema.ts';
import { postgresProblem, randomSchema } from '../helpers/engines.ts';
import { PGBOUNCER_BIN, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.ts';

/**
 * Behind PgBouncer in transaction pooling mode (README, "Behind PgBouncer"): the `options` startup
 * parameter is refused, so the schema comes from the role's settings, checked when the database is
 * opened; nothing relies on session state. (vitest.pgbouncer.config.ts runs whole suites through one.)
 */
const DIRECT = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const problem = !existsSync(PGBOUNCER_BIN) ? `${PGBOUNCER_BIN} is missing` : await postgresProblem();
const suite = problem && !process.env.CI ? describe.skip : describe;

suite(`behind PgBouncer (transaction pooling)${problem ? ` (${problem})` : ''}`, () => {
  let bouncer: PgBouncer;
  const admin = new pg.Client({ connectionString: DIRECT });
  const roles: string[] = [];
  const schemas: string[] = [];
  const role = async (searchPath?: string) => {
    const name = randomSchema();
    roles.push(name);
    await admin.query(`create role ${name} login; grant create on database ${new URL(DIRECT).pathname.slice(1)} to ${name}`);
    if (searchPath) await admin.query(`alter role ${name} set search_path = ${searchPath}`);
    return name;
  };
  beforeAll(async () => {
    if (problem) throw new Error(problem);
    await admin.connect();
    bouncer = await startPgBouncer(DIRECT);
  });
  afterAll(async () => {
    await bouncer?.stop();
    for (const name of [...schemas, ...roles]) await admin.query(`drop schema if exists ${name} cascade`);
    for (const name of roles) await admin.query(`drop owned by ${name}; drop role ${name}`);
    await admin.end();
  });

  it('refuses to open when the role does not name the schema, and says how to set it', async () => {
    const name = await role(); // search_path the default, "$user", public
    const schema = randomSchema();
    schemas.push(schema);
    const opening = openDatabase<DB>({ databaseUrl: bouncer.url(name), dataDir: '', schema, poolSize: 2 });
    await expect(opening).rejects.toThrow(`ALTER ROLE "${name}" SET search_path = ${schema}`);
    await expect(opening).rejects.toThrow(/refuses the startup option that sets the schema/);
  });

  it('opens through the role’s search_path in UTC; migrations and the bootstrap lock work across pooled connections', async () => {
    const name = await role('"$user"'); // the role is named like its schema
    const database = await openDatabase<DB>({ databaseUrl: bouncer.url(name), dataDir: '', schema: name, poolSize: 4 });
    try {
      const session = await sql<{
        schema: string;
        tz: string;
      }>`select current_schema() as schema, current_setting('TimeZone') as tz`.execute(database.db);
      expect(session.rows[0]).toEqual({ schema: name, tz: 'UTC' });
      // Two racing migrations (transaction-scoped advisory lock) and racing first starts.
      await Promise.all([1, 2].map(() => migrate(database.db as never, migrations, name)));
      const results = await Promise.all([1, 2, 3, 4].map(() => accountsService(database).bootstrap({ timeZone: 'UTC' })));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      // The tables were made where the role's search_path points, not in public.
      const where = await admin.query(
        `select table_schema from information_schema.tables where table_name = 'accounts' and table_schema = $1`,
        [name],
      );
      expect(where.rowCount).toBe(1);
    } finally {
      await database.close();
    }
  });

  it('a session that asks for the UTC zone gets it whatever the zone of the connection it is handed', async () => {
    const name = await role('"$user"');
    await admin.query(`alter role ${name} set timezone = 'Pacific/Auckland'`);
    const database = await openDatabase<DB>({ databaseUrl: bouncer.url(name), dataDir: '', schema: name, poolSize: 4 });
    try {
      const zones = await Promise.all(
        Array.from({ length: 8 }, () => sql<{ tz: string }>`select current_setting('TimeZone') as tz`.execute(database.db)),
      );
      expect(new Set(zones.map((z) => z.rows[0]!.tz))).toEqual(new Set(['UTC']));
    } finally {
      await database.close();
    }
  });
});

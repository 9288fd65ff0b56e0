import { sql, type Kysely } from 'kysely';
import { recordedVersion } from './catalog.sql.ts';

export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<unknown>): Promise<void>;
}

/**
 * Applies pending migrations, forward only, each in its own transaction. Every transaction first
 * takes a transaction-scoped advisory lock (one per schema), then checks whether its migration is
 * still pending: several processes starting at once all succeed, and each migration runs once.
 * Returns the versions this call applied.
 */
export async function migrate(db: Kysely<unknown>, migrations: readonly Migration[], schema: string): Promise<number[]> {
  assertOrdered(migrations);
  await refuseNewerSchema(db, migrations.length);
  const applied: number[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`couponflow-migrate:${schema}`}))`.execute(tx);
      await sql`create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`.execute(tx);
      const done = await sql<{ version: number }>`select version from schema_migrations where version = ${migration.version}`.execute(tx);
      if (done.rows.length > 0) return false;
      await migration.up(tx);
      await sql`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`.execute(tx);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}

function assertOrdered(migrations: readonly Migration[]) {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} should be number ${i + 1}, is ${m.version}`);
  });
}

/** The exit code of a process that finds its database migrated by a newer version. */
export const EXIT_SCHEMA_TOO_NEW = 3;

/** The database records a migration this build does not know: a newer version migrated it. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly recorded: number,
    readonly known: number,
  ) {
    super(
      `the database was migrated by a newer Couponflow (schema version ${recorded}; this build knows up to ${known}). ` +
        'Run the newer version, or restore a backup taken before the upgrade: an older build never runs against a newer schema.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Refuses to start against a schema a newer build migrated (as graphile-worker does): an older
 * build's statements may break the newer schema's rules. Checked before any migration runs.
 */
export async function refuseNewerSchema(db: Kysely<unknown>, known: number): Promise<void> {
  const recorded = await recordedVersion(db);
  if (recorded > known) throw new SchemaTooNewError(recorded, known);
}

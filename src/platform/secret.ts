import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { AppDatabase, DB } from '../schema.ts';

export interface InstallationSecret {
  /** The secret, read once per process (through its own connection) and kept. */
  get(): Promise<string>;
  /**
   * The secret inside a transaction that holds the only connection (PGlite): the kept value, or
   * read through `tx`. Not kept when read this way: `tx` may roll back a secret it generated.
   */
  within(tx: Kysely<DB>): Promise<string>;
}

/**
 * The installation's secret (SECRET_KEY): signs unsubscribe links. Taken from the environment when
 * set; otherwise generated at first use and kept in the database (installation_settings), so every
 * process on the same database signs and checks with the same key. Two processes racing at first
 * start both insert with `on conflict do nothing` and then both read the row that won.
 */
export function installationSecret(database: AppDatabase, configured: string | undefined): InstallationSecret {
  let kept: string | undefined = configured;
  let loading: Promise<string> | undefined;
  return {
    async get() {
      if (kept) return kept;
      loading ??= load(database.db).finally(() => (loading = undefined));
      kept = await loading;
      return kept;
    },
    async within(tx) {
      return kept ?? load(tx);
    },
  };
}

async function load(db: Kysely<DB>): Promise<string> {
  const generated = randomBytes(32).toString('base64url');
  await sql`insert into installation_settings (key, value) values ('secret_key', ${generated}) on conflict (key) do nothing`.execute(db);
  const row = await db.selectFrom('installation_settings').select('value').where('key', '=', 'secret_key').executeTakeFirstOrThrow();
  return row.value;
}

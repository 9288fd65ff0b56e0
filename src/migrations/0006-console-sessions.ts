import { sql, type Kysely } from 'kysely';

/**
 * Console sessions: a pasted token is exchanged for a random session id kept in an HttpOnly
 * cookie. Only the id's SHA-256 is stored (like tokens), so a database dump signs nobody in.
 * A session acts with its token's rights, read from the token row at every request: deleting the
 * token ends its sessions (cascade), and signing out deletes the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table console_sessions (
      id_hash text primary key,
      account_id text not null references accounts (id),
      token_id text not null references tokens (id) on delete cascade,
      created_at timestamptz not null,
      expires_at timestamptz not null
    );
    create index console_sessions_token_id_idx on console_sessions (token_id);
    create index console_sessions_expires_at_idx on console_sessions (expires_at);
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

/**
 * The first start's bootstrap lock: a transaction-scoped advisory lock, so that two processes
 * starting together create the installation admin once (the second, after the first commits,
 * finds it and creates nothing). Released at the transaction's end.
 */
export async function lockBootstrap(db: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('couponflow-bootstrap'))`.execute(db);
}

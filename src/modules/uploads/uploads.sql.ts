import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { unnestRows } from '../../platform/db/bulk.ts';

/*
 * The upload's hot statements, all inside the one upload transaction on a pinned connection,
 * after the pool row is locked (lockPool, FOR UPDATE: no type change meanwhile). Lock order:
 * pool → new code rows → the pool's counter rows (slot 0). Duplicates are skipped by the
 * (pool_key, code) primary key; a failed upload rolls back whole, so a pool is never half-filled.
 * Invariant: sum(codes) and sum(unassigned) over pool_code_counts equal count(*) of the pool's
 * codes and of its unassigned codes.
 */

type Q = Kysely<DB>;

/** The fast path: a chunk of rows straight into the pool (fails whole on a duplicate code). */
export const COPY_INTO_CODES = 'copy codes (account_id, pool_key, code, expires_at, upload_key) from stdin';

export const COPY_INTO_STAGING = 'copy upload_lines (account_id, pool_key, code, expires_at, upload_key) from stdin';

/** The slow path's table: same columns, no index, private to the session, gone at commit. */
export async function createStagingTable(db: Q): Promise<void> {
  await sql`create temp table upload_lines (account_id text, pool_key bigint, code text, expires_at timestamptz, upload_key bigint) on commit drop`.execute(
    db,
  );
}

export const savepoint = (db: Q) => sql`savepoint upload_chunk`.execute(db);

export const releaseSavepoint = (db: Q) => sql`release savepoint upload_chunk`.execute(db);

export const rollbackToSavepoint = (db: Q) => sql`rollback to savepoint upload_chunk`.execute(db);

/**
 * The slow path, for a chunk that holds a duplicate (of a code in the pool, or within the
 * file): moves the staged rows into the pool and counts them, in one statement. Duplicates are
 * skipped by the (pool_key, code) key: ON CONFLICT DO NOTHING also sees rows this statement
 * inserted. Ids follow the staging table's scan order, which is file order (a fresh heap filled
 * by one COPY, private to this session), so "ties by upload order" holds without a sort.
 * Returns how many codes went in, and how many of those expire by `now`; the counters are
 * updated here too (locks: the new codes, then the counter rows of their expiration instants).
 */
export async function moveStagedCodes(
  db: Q,
  p: { accountId: string; poolKey: number; now: Date },
): Promise<{ imported: number; expired: number }> {
  const result = await sql<{ imported: number; expired: number }>`
    with inserted as (
      insert into codes (account_id, pool_key, code, expires_at, upload_key)
      select account_id, pool_key, code, expires_at, upload_key from upload_lines
      on conflict (pool_key, code) do nothing
      returning expires_at
    ), buckets as (
      select expires_at, count(*) as n from inserted group by expires_at
    ), counted as (
      insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      select ${p.accountId}, ${p.poolKey}, expires_at, 0, n, n from buckets
      on conflict (pool_key, expires_at, slot) do update
        set codes = pool_code_counts.codes + excluded.codes,
            unassigned = pool_code_counts.unassigned + excluded.unassigned
    )
    select coalesce(sum(n), 0) as imported, coalesce(sum(n) filter (where expires_at <= ${p.now}), 0) as expired from buckets`.execute(db);
  return { imported: Number(result.rows[0]?.imported ?? 0), expired: Number(result.rows[0]?.expired ?? 0) };
}

export async function truncateStaging(db: Q): Promise<void> {
  await sql`truncate upload_lines`.execute(db);
}

/** Adds codes COPYed by the fast path to the pool's counters (codes per expiration instant). */
export async function addToCounters(db: Q, p: { accountId: string; poolKey: number; byExpiry: Map<string, number> }): Promise<void> {
  if (p.byExpiry.size === 0) return;
  const expiries = [...p.byExpiry.keys()];
  const counts = expiries.map((k) => p.byExpiry.get(k)!);
  await sql`
    insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
    select ${p.accountId}, ${p.poolKey}, e.expires_at, 0, e.n, e.n
    from ${unnestRows({ expires_at: 'timestamptz', n: 'bigint' }, { expires_at: expiries, n: counts }, 'e')}
    on conflict (pool_key, expires_at, slot) do update
      set codes = pool_code_counts.codes + excluded.codes,
          unassigned = pool_code_counts.unassigned + excluded.unassigned`.execute(db);
}

/** Fresh statistics after a large import keep the claim query on its index. */
export async function analyzeCodes(db: Q): Promise<void> {
  await sql`analyze codes`.execute(db);
}

/**
 * The key of an upload about to be written: drawn first (a sequence is not transactional, so a
 * rolled-back upload burns its number, harmlessly) so that every copied code can carry it.
 * Locks nothing.
 */
export async function nextUploadKey(db: Q): Promise<number> {
  const { rows } = await sql<{ key: string }>`select nextval(pg_get_serial_sequence('uploads', 'key'))::text as key`.execute(db);
  return Number(rows[0]!.key);
}

/**
 * Undo of an upload (`DELETE /v1/uploads/{id}`), inside one transaction that first locked the pool
 * row (lockPool, as an upload does) and then the upload row (lockUpload). Removes the upload's
 * UNASSIGNED codes and takes them off the pool's counters, in one statement.
 * Locks, in this order: pool → upload row → the removed code rows → the counter rows (slot 0) of
 * their expiration instants. The same order as an upload (pool → codes → counters) and as a claim
 * (codes → counters): no cycle. A code a concurrent claim holds locked is waited for and re-checked
 * (READ COMMITTED re-evaluates `assigned_at is null` on the new row version): a code assigned
 * meanwhile stays; one whose claim rolled back goes. A claim passes over codes being removed
 * (SKIP LOCKED) and, after our commit, they are gone: no code is both handed out and removed.
 * The scan walks codes_upload_unassigned_idx (pool_key, upload_key, partial on unassigned: migration
 * 0018), only this upload's unassigned rows; a code of the same text in another pool has another
 * pool_key, so only this upload's rows go.
 * Idempotent through the upload row: the caller sets its status to `undone` in the same
 * transaction, and a second undo finds it so (under the row lock) and answers what the first did.
 * Counters: slot 0 takes the negative deltas; a pool's counts are sums over slots, so the
 * invariant sum(codes) = count(*) of its codes (and likewise unassigned) holds after commit.
 */
export async function removeUnassignedCodes(db: Q, p: { accountId: string; poolKey: number; uploadKey: number }): Promise<number> {
  const result = await removeUnassignedStatement(p).execute(db);
  return Number(result.rows[0]?.removed ?? 0);
}

/** The statement of removeUnassignedCodes (test/lifecycle/undo-plan.test.ts explains it). */
export function removeUnassignedStatement(p: { accountId: string; poolKey: number; uploadKey: number }) {
  return sql<{ removed: number }>`
    with removed as (
      delete from codes
      where pool_key = ${p.poolKey} and upload_key = ${p.uploadKey} and assigned_at is null
      returning expires_at
    ), buckets as (
      select expires_at, count(*) as n from removed group by expires_at
    ), counted as (
      insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      select ${p.accountId}, ${p.poolKey}, expires_at, 0, -n, -n from buckets
      on conflict (pool_key, expires_at, slot) do update
        set codes = pool_code_counts.codes + excluded.codes,
            unassigned = pool_code_counts.unassigned + excluded.unassigned
    )
    select coalesce(sum(n), 0) as removed from buckets`;
}

/**
 * After a removal that removed nothing, in the same transaction: the upload's codes left in the pool
 * (all assigned). Reads, locks nothing. No index covers assigned codes by upload (a claim would pay
 * for one): this walks the pool's codes, which only this rare case does.
 */
export async function countUploadCodes(db: Q, p: { poolKey: number; uploadKey: number }): Promise<number> {
  const result = await sql<{ n: number }>`
    select count(*) as n from codes where pool_key = ${p.poolKey} and upload_key = ${p.uploadKey}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * What an undo would remove now (GET /v1/uploads/{id}): the upload's unassigned codes. Reads,
 * locks nothing: the figure may be passed by a claim or an undo a moment later (the undo answers
 * what it did). Walks codes_upload_unassigned_idx, as removeUnassignedCodes does.
 */
export async function countUnassignedUploadCodes(db: Q, p: { poolKey: number; uploadKey: number }): Promise<number> {
  const result = await countUnassignedStatement(p).execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/** The statement of countUnassignedUploadCodes (explained by the plan test). */
export const countUnassignedStatement = (p: { poolKey: number; uploadKey: number }) =>
  sql<{ n: number }>`
    select count(*) as n from codes where pool_key = ${p.poolKey} and upload_key = ${p.uploadKey} and assigned_at is null`;

import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { LineError, Upload } from './model.ts';

type Q = Kysely<DB>;

/** The fast path: a chunk of rows straight into the pool (fails whole on a duplicate code). */
export const COPY_INTO_CODES = 'copy codes (account_id, pool_key, code, expires_at, upload_key) from stdin';

/** The slow path's table: same columns, no index, private to the session, gone at commit. */
export async function createStagingTable(db: Q): Promise<void> {
  await sql`create temp table upload_lines (account_id text, pool_key bigint, code text, expires_at timestamptz, upload_key bigint) on commit drop`.execute(db);
}

export const COPY_INTO_STAGING = 'copy upload_lines (account_id, pool_key, code, expires_at, upload_key) from stdin';

export const savepoint = (db: Q) => sql`savepoint upload_chunk`.execute(db);
export const releaseSavepoint = (db: Q) => sql`release savepoint upload_chunk`.execute(db);
export const rollbackToSavepoint = (db: Q) => sql`rollback to savepoint upload_chunk`.execute(db);

/**
 * The slow path, for a chunk that holds a duplicate (of a code in the pool, or within the
 * file): moves the staged rows into the pool and counts them, in one statement. Duplicates are
 * skipped by the (pool_key, code) key: ON CONFLICT DO NOTHING also sees rows this statement
 * inserted. Ids follow the staging table's scan order, which is file order (a fresh heap filled
 * by one COPY, private to this session), so "ties by upload order" holds without a sort.
 * Each code carries its upload's key (staged with it), so `?uploadId=` finds it.
 * Returns how many codes were imported; the counters are updated here too.
 */
/** Moves the staged codes into the pool: how many went in, and how many of those expire by `now`. */
export async function moveStagedCodes(db: Q, p: { accountId: string; poolKey: number; now: Date }): Promise<{ imported: number; expired: number }> {
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
    from unnest(${expiries}::timestamptz[], ${counts}::bigint[]) as e (expires_at, n)
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
 */
export async function nextUploadKey(db: Q): Promise<number> {
  const { rows } = await sql<{ key: string }>`select nextval(pg_get_serial_sequence('uploads', 'key'))::text as key`.execute(db);
  return Number(rows[0]!.key);
}

export interface UploadRecord {
  accountId: string;
  id: string;
  key: number;
  poolKey: number;
  source: 'file' | 'generate';
  fileName: string | null;
  tokenId: string | null;
  options: Record<string, unknown>;
  status: Upload['status'];
  lines: number;
  imported: number;
  duplicates: number;
  rejected: number;
  errorCount: number;
  errors: LineError[];
  createdAt: Date;
  finishedAt: Date;
}

export async function insertUpload(db: Q, u: UploadRecord): Promise<void> {
  await db
    .insertInto('uploads')
    .values({
      account_id: u.accountId,
      id: u.id,
      key: u.key,
      pool_key: u.poolKey,
      source: u.source,
      file_name: u.fileName,
      token_id: u.tokenId,
      options: JSON.stringify(u.options),
      status: u.status,
      lines: u.lines,
      imported: u.imported,
      duplicates: u.duplicates,
      rejected: u.rejected,
      error_count: u.errorCount,
      errors: JSON.stringify(u.errors),
      created_at: u.createdAt,
      finished_at: u.finishedAt,
    })
    .execute();
}

const toUpload = (poolId: string) => (row: Selectable<DB['uploads']>): Upload => ({
  id: row.id,
  poolId,
  source: row.source,
  fileName: row.file_name,
  options: row.options as Record<string, unknown>,
  status: row.status,
  lines: Number(row.lines),
  imported: Number(row.imported),
  duplicates: Number(row.duplicates),
  rejected: Number(row.rejected),
  errors: row.errors as LineError[],
  errorCount: Number(row.error_count),
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

export async function listUploads(db: Q, accountId: string, pool: { key: number; id: string }, limit: number): Promise<Upload[]> {
  const rows = await db
    .selectFrom('uploads')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('pool_key', '=', pool.key)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toUpload(pool.id));
}

import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { LineError, Upload } from './model.ts';

type Q = Kysely<DB>;

export {
  COPY_INTO_CODES,
  COPY_INTO_STAGING,
  createStagingTable,
  savepoint,
  releaseSavepoint,
  rollbackToSavepoint,
  moveStagedCodes,
  truncateStaging,
  addToCounters,
  analyzeCodes,
  nextUploadKey,
  removeUnassignedCodes,
  countUploadCodes,
  countUnassignedUploadCodes,
} from './uploads.sql.ts';

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
  blank: number;
  alreadyExpired: number;
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
      blank: u.blank,
      already_expired: u.alreadyExpired,
      error_count: u.errorCount,
      errors: JSON.stringify(u.errors),
      created_at: u.createdAt,
      finished_at: u.finishedAt,
    })
    .execute();
}

const toUpload =
  (poolId: string) =>
  (row: Selectable<DB['uploads']>): Upload => ({
    id: row.id,
    poolId,
    source: row.source,
    fileName: row.file_name,
    options: row.options,
    status: row.status,
    lines: Number(row.lines),
    imported: Number(row.imported),
    duplicates: Number(row.duplicates),
    rejected: Number(row.rejected),
    blank: Number(row.blank),
    alreadyExpired: Number(row.already_expired),
    errors: row.errors,
    errorCount: Number(row.error_count),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    undoneAt: row.undone_at,
    removed: row.removed === null ? null : Number(row.removed),
    keptAssigned: row.kept_assigned === null ? null : Number(row.kept_assigned),
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

/** The upload row, locked (FOR UPDATE) for its undo: a second undo waits, then finds it undone. */
export async function lockUpload(db: Q, accountId: string, id: string) {
  return db.selectFrom('uploads').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** One upload of the account, whole (the pool it belongs to is checked by the caller). */
export async function getUpload(db: Q, accountId: string, id: string, poolId: string): Promise<(Upload & { key: number }) | undefined> {
  const row = await db.selectFrom('uploads').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return row && { ...toUpload(poolId)(row), key: Number(row.key) };
}

/** Any upload of the account by id (the pool it belongs to is checked by the caller). */
export async function findUpload(db: Q, accountId: string, id: string) {
  return db.selectFrom('uploads').select(['id', 'pool_key']).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function markUndone(db: Q, accountId: string, id: string, p: { at: Date; removed: number; keptAssigned: number }) {
  await db
    .updateTable('uploads')
    .set({ status: 'undone', undone_at: p.at, removed: p.removed, kept_assigned: p.keptAssigned })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

import type { Clock } from '../../platform/clock.ts';
import { notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import type { PoolsService } from '../pools/service.ts';
import * as repo from './repo.ts';

export type { CodeRow, CodeFilter, CodeStatus } from './repo.ts';

const EXPORT_PAGE = 5000;

/** The list's and the export's filters: status, search, and the upload the codes came with. */
export type CodesQuery = repo.CodeFilter & { uploadId?: string | undefined };

/** Codes out of the product: a pool's unique codes listed and exported with their status. */
export function codesService(deps: { database: AppDatabase; clock: Clock; pools: PoolsService }) {
  const { db } = deps.database;

  /** The pool, and the filter with `uploadId` resolved to its key (another pool's upload: 404). */
  async function scoped(principal: Principal, poolId: string, query: CodesQuery) {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    const { uploadId, ...filter } = query;
    let uploadKey: number | undefined;
    if (uploadId !== undefined) {
      uploadKey = await repo.findUploadKey(db, pool.accountId, pool.key, uploadId);
      if (uploadKey === undefined) throw notFound('upload');
    }
    return { pool, filter: { ...filter, uploadKey } };
  }

  async function listCodes(principal: Principal, poolId: string, query: CodesQuery, page: PageQuery): Promise<Page<repo.CodeRow>> {
    const { pool, filter } = await scoped(principal, poolId, query);
    const rows = await repo.listCodes(db, {
      poolKey: pool.key,
      accountId: pool.accountId,
      now: deps.clock.now(),
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      ...filter,
    });
    return toPage(rows, page.limit, (c) => c.code);
  }

  /**
   * Every matching code, page after page (keyset on the code): the caller streams each page out
   * before the next is read, so memory stays flat whatever the pool's size. The pool (and the
   * upload) are checked before the first page: a missing one is a clean 404 before any byte is sent.
   */
  async function exportCodes(principal: Principal, poolId: string, query: CodesQuery): Promise<AsyncGenerator<repo.CodeRow[]>> {
    const { pool, filter } = await scoped(principal, poolId, query);
    const now = deps.clock.now();
    return (async function* () {
      for (let after: string | undefined; ;) {
        const rows = await repo.listCodes(db, { poolKey: pool.key, accountId: pool.accountId, now, after, limit: EXPORT_PAGE, ...filter });
        if (rows.length === 0) return;
        yield rows;
        if (rows.length < EXPORT_PAGE) return;
        after = rows[rows.length - 1]!.code;
      }
    })();
  }

  return { listCodes, exportCodes };
}

export type CodesService = ReturnType<typeof codesService>;

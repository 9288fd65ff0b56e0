import type { Readable } from 'node:stream';
import { DomainError, invalid, notFound } from '../../platform/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import type { AppDatabase } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { PoolsService } from '../pools/service.ts';
import type { Pool } from '../pools/model.ts';
import { lockPool } from '../pools/repo.ts';
import { parseDate, parseUpload, type UploadLine } from './lines.ts';
import { checkGenerateRequest, generateCodes } from './generate.ts';
import { CopyChunk } from './copy-chunk.ts';
import { LineTally, type UndoOutcome, type Upload, type UploadOptions } from './model.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import * as repo from './repo.ts';

/** Below this many imported codes the planner's statistics are not worth refreshing. */
const ANALYZE_AFTER = 10_000;
/** COPY chunk size: large enough to be fast, small enough to hold in memory and to retry. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export interface GenerateInput {
  count: number;
  length: number;
  prefix?: string | undefined;
  alphabet?: string | undefined;
  expiresOn?: string | undefined;
}

class Rejected extends Error {}

/** Yields what `source` yields, asking for the next item as soon as one is handed out. */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = it.next();
      next.catch(() => {}); // surfaces at the await above; no unhandled rejection meanwhile
      yield result.value;
    }
  } finally {
    await next.then(() => it.return?.()).catch(() => {});
  }
}

export function uploadsService(deps: {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  pools: PoolsService;
  /** After codes went in (threshold notices re-arm on it). */
  onImported?: (pool: Pool) => Promise<void>;
  /** After an undo took codes out (a threshold notice may be due). */
  onRemoved?: (pool: Pool) => Promise<void>;
}) {
  const { database } = deps;

  async function uniquePool(principal: Principal, poolId: string): Promise<Pool> {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    deps.pools.refuseArchived(pool);
    if (pool.type !== 'unique') {
      throw new DomainError(
        'conflict',
        'pool_not_unique',
        'Codes are uploaded to unique pools; a static pool holds rows (PUT …/static-codes).',
      );
    }
    return pool;
  }

  async function fixedExpiration(accountId: string, expiresOn: string | null | undefined, field: string): Promise<Date | null> {
    if (!expiresOn) return null;
    const { timeZone } = await deps.accounts.getAccount(accountId);
    const at = parseDate(expiresOn, timeZone);
    if (!at)
      throw invalid(`${field}: must be YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset`, [{ field, message: 'not a date' }]);
    return at;
  }

  /**
   * The one path codes take into a pool: staged by COPY, moved by one INSERT, counted, recorded,
   * all in one transaction. `rounds` yields batches of lines; it is called again with the number
   * of codes still wanted while it returns a generator (generated codes top up duplicates).
   */
  async function importCodes(args: {
    principal: Principal;
    pool: Pool;
    source: 'file' | 'generate';
    fileName: string | null;
    options: Record<string, unknown>;
    onInvalid: 'reject' | 'skip';
    fixedExpiresAt: Date | null;
    rounds: (stillWanted: number | null) => AsyncIterable<UploadLine[]> | null;
    /** True once the client's connection is gone: a body cut short is then a cancel, not a failure. */
    clientGone?: (() => boolean) | undefined;
  }): Promise<Upload> {
    const { principal, pool } = args;
    const id = newId();
    const key = await repo.nextUploadKey(database.db);
    const createdAt = deps.clock.now();
    const tally = new LineTally();
    let imported = 0;
    let alreadyExpired = 0;
    const record = (status: Upload['status']): repo.UploadRecord => ({
      accountId: principal.accountId,
      id,
      key,
      poolKey: pool.key,
      source: args.source,
      fileName: args.fileName,
      tokenId: principal.tokenId,
      options: args.options,
      status,
      lines: tally.lines,
      imported: status === 'imported' ? imported : 0,
      duplicates: status === 'imported' ? tally.valid - imported : 0,
      rejected: tally.errorCount,
      blank: Math.max(0, tally.lines - tally.valid - tally.errorCount),
      alreadyExpired: status === 'imported' ? alreadyExpired : 0,
      errorCount: tally.errorCount,
      errors: tally.errors,
      createdAt,
      finishedAt: deps.clock.now(),
    });

    // Valid lines become COPY rows, a few MB at a time (bounded memory whatever the file).
    const newChunk = CopyChunk.forPool(principal.accountId, pool.key, CHUNK_BYTES + 64 * 1024, key);
    const chunksOf = async function* (batches: AsyncIterable<UploadLine[]>) {
      let chunk = newChunk();
      for await (const batch of batches) {
        for (const line of batch) {
          tally.add(line);
          // Once a rejecting upload has an error nothing more is copied; we only count.
          if (line.ok && !(args.onInvalid === 'reject' && tally.errorCount > 0))
            chunk.add(line.code, line.expiresAt ?? args.fixedExpiresAt);
        }
        if (chunk.size >= CHUNK_BYTES) {
          yield chunk;
          chunk = newChunk();
        }
      }
      if (chunk.rows > 0) yield chunk;
    };

    try {
      await database.session(async (session) =>
        session.db.transaction().execute(async (tx) => {
          // Holds off an edit of the pool (its type) while codes go in.
          await lockPool(tx, principal.accountId, pool.id);
          let staging = false;
          const fastCounts = new Map<string, number>();
          for (let batches = args.rounds(null); batches; batches = args.rounds(imported)) {
            // While PostgreSQL copies one chunk, the next is read and parsed (two cores at work).
            for await (const chunk of prefetched(chunksOf(batches))) {
              // Fast path: the chunk straight into the pool. A duplicate code fails the whole
              // COPY; then, and only then, the chunk goes through the staging table and
              // INSERT … ON CONFLICT DO NOTHING (several times slower), from the savepoint.
              await repo.savepoint(tx);
              try {
                await session.copyFrom(repo.COPY_INTO_CODES, [chunk.bytes]);
                await repo.releaseSavepoint(tx);
                imported += chunk.rows;
                alreadyExpired += chunk.expiredBy(createdAt);
                for (const [at, n] of chunk.byExpiry) fastCounts.set(at, (fastCounts.get(at) ?? 0) + n);
              } catch (err) {
                if (!isUniqueViolation(err)) throw err;
                await repo.rollbackToSavepoint(tx);
                if (!staging) await repo.createStagingTable(tx);
                staging = true;
                await session.copyFrom(repo.COPY_INTO_STAGING, [chunk.bytes]);
                const moved = await repo.moveStagedCodes(tx, { accountId: principal.accountId, poolKey: pool.key, now: createdAt });
                imported += moved.imported;
                alreadyExpired += moved.expired;
                await repo.truncateStaging(tx);
              }
            }
            if (args.onInvalid === 'reject' && tally.errorCount > 0) throw new Rejected();
          }
          await repo.addToCounters(tx, { accountId: principal.accountId, poolKey: pool.key, byExpiry: fastCounts });
          await repo.insertUpload(tx, record('imported'));
        }),
      );
    } catch (err) {
      if (err instanceof Rejected) {
        const upload = await saveOutcome(record('rejected'), pool);
        throw new DomainError(
          'invalid',
          'upload_rejected',
          `The file has ${tally.errorCount} invalid line(s); nothing was imported (onInvalid is "reject").`,
          tally.errors,
          { upload: uploadJsonFields(upload) },
        );
      }
      if (err instanceof DomainError && (err.kind === 'too_large' || err.kind === 'malformed')) {
        // The request was refused (a file over the limit, a part after it): rejected. A body cut
        // short (the client dropped the connection, or sent half a body) is a failed transfer.
        const upload = await saveOutcome(
          record(err.code === 'multipart_truncated' ? (args.clientGone?.() ? 'cancelled' : 'failed') : 'rejected'),
          pool,
        );
        throw new DomainError(err.kind, err.code, err.message, err.details, { ...err.extra, upload: uploadJsonFields(upload) });
      }
      // A dropped connection or any failure: the transaction rolled back; keep a trace of it.
      await saveOutcome(record(args.clientGone?.() ? 'cancelled' : 'failed'), pool).catch(() => {});
      throw err;
    }
    if (imported >= ANALYZE_AFTER) await repo.analyzeCodes(database.db);
    if (imported > 0) await deps.onImported?.(pool);
    return toUpload(record('imported'), pool);
  }

  async function saveOutcome(r: repo.UploadRecord, pool: Pool): Promise<Upload> {
    await repo.insertUpload(database.db, r);
    return toUpload(r, pool);
  }

  const toUpload = (r: repo.UploadRecord, pool: Pool): Upload => ({
    id: r.id,
    poolId: pool.id,
    source: r.source,
    fileName: r.fileName,
    options: r.options,
    status: r.status,
    lines: r.lines,
    imported: r.imported,
    duplicates: r.duplicates,
    rejected: r.rejected,
    blank: r.blank,
    alreadyExpired: r.alreadyExpired,
    errors: r.errors,
    errorCount: r.errorCount,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  });

  async function uploadFile(
    principal: Principal,
    poolId: string,
    input: { fileName: string | null; options: UploadOptions; file: Readable; clientGone?: () => boolean },
  ): Promise<Upload> {
    const pool = await uniquePool(principal, poolId);
    const { options } = input;
    if (options.expiration === 'fixed' && !options.expiresOn) {
      throw invalid('expiresOn: required when expiration is "fixed"', [
        { field: 'expiresOn', message: 'required when expiration is "fixed"' },
      ]);
    }
    const fixedExpiresAt =
      options.expiration === 'fixed' ? await fixedExpiration(principal.accountId, options.expiresOn, 'expiresOn') : null;
    const { timeZone } = await deps.accounts.getAccount(principal.accountId);
    let once = false;
    return importCodes({
      principal,
      pool,
      source: 'file',
      fileName: input.fileName,
      options: { ...options },
      onInvalid: options.onInvalid,
      fixedExpiresAt,
      clientGone: input.clientGone,
      rounds: () =>
        once ? null : ((once = true), parseUpload(input.file, { expiration: options.expiration, delimiter: options.delimiter, timeZone })),
    });
  }

  async function generate(principal: Principal, poolId: string, input: GenerateInput): Promise<Upload> {
    const pool = await uniquePool(principal, poolId);
    const problems = checkGenerateRequest(input);
    if (problems.length) throw invalid(`${problems[0]!.field}: ${problems[0]!.message}`, problems);
    const fixedExpiresAt = await fixedExpiration(principal.accountId, input.expiresOn, 'expiresOn');
    let round = 0;
    let line = 0;
    // Random codes may collide with codes already in the pool: top up, a few rounds at most.
    const rounds = (imported: number | null) => {
      const wanted = input.count - (imported ?? 0);
      if (wanted <= 0 || round++ >= 5) return null;
      return (async function* () {
        const codes = generateCodes({ count: wanted, length: input.length, prefix: input.prefix, alphabet: input.alphabet });
        let batch: UploadLine[] = [];
        for (const code of codes) {
          batch.push({ line: ++line, ok: true, code, expiresAt: null });
          if (batch.length === 10_000) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length) yield batch;
      })();
    };
    const upload = await importCodes({
      principal,
      pool,
      source: 'generate',
      fileName: null,
      options: { ...input },
      onInvalid: 'reject',
      fixedExpiresAt,
      rounds,
    });
    // Lines of a generated "file" are the codes we drew; duplicates are draws that collided.
    return upload;
  }

  async function listUploads(principal: Principal, poolId: string): Promise<Upload[]> {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    return repo.listUploads(database.db, principal.accountId, pool, 100);
  }

  /** One upload, with what an undo would remove now (its unassigned codes). 404 as for another account's. */
  async function getUpload(principal: Principal, uploadId: string): Promise<Upload & { unassignedCodes: number }> {
    const found = await repo.findUpload(database.db, principal.accountId, uploadId);
    const [owner] = found ? await deps.pools.findByKeys([Number(found.pool_key)]) : [];
    if (!found || !owner) throw notFound('upload');
    const pool = await deps.pools.getPoolFor(principal, owner.id);
    const upload = await repo.getUpload(database.db, principal.accountId, uploadId, pool.id);
    if (!upload) throw notFound('upload');
    const unassignedCodes =
      upload.status === 'imported' ? await repo.countUnassignedUploadCodes(database.db, { poolKey: pool.key, uploadKey: upload.key }) : 0;
    return { ...upload, unassignedCodes };
  }

  /**
   * Undo: the upload's unassigned codes leave the pool in one transaction; assigned (and redeemed)
   * ones stay and are counted. The upload stays listed, `undone`. Repeating it answers the same.
   */
  async function undoUpload(principal: Principal, uploadId: string): Promise<UndoOutcome> {
    const found = await repo.findUpload(database.db, principal.accountId, uploadId);
    const [owner] = found ? await deps.pools.findByKeys([Number(found.pool_key)]) : [];
    if (!found || !owner) throw notFound('upload');
    const pool = await deps.pools.getPoolFor(principal, owner.id);
    const outcome = await database.db.transaction().execute(async (tx) => {
      await lockPool(tx, principal.accountId, pool.id);
      const row = await repo.lockUpload(tx, principal.accountId, uploadId);
      if (!row) throw notFound('upload');
      if (row.status === 'undone')
        return { removed: Number(row.removed ?? 0), keptAssigned: Number(row.kept_assigned ?? 0), repeated: true };
      if (row.status !== 'imported')
        throw new DomainError(
          'conflict',
          'upload_not_imported',
          `This upload was ${row.status}: it brought no codes, there is nothing to undo.`,
        );
      const at = { accountId: principal.accountId, poolKey: pool.key, uploadKey: Number(row.key) };
      const removed = await repo.removeUnassignedCodes(tx, at);
      // The rest of the upload's codes stayed because they are assigned. Only an undo deletes codes
      // (once per upload) and `imported` counts the rows the upload inserted, so when some were
      // removed the kept ones are the difference; when none were, a count (a scan of the pool's
      // codes, no index serves assigned ones) tells "all handed out" from "not traceable".
      const keptAssigned = removed > 0 ? Number(row.imported) - removed : await repo.countUploadCodes(tx, at);
      if (removed + keptAssigned === 0 && Number(row.imported) > 0)
        throw new DomainError(
          'conflict',
          'upload_not_undoable',
          'The codes of this upload are not traceable to it (uploaded before codes recorded their upload); nothing was removed.',
        );
      await repo.markUndone(tx, principal.accountId, uploadId, { at: deps.clock.now(), removed, keptAssigned });
      return { removed, keptAssigned, repeated: false };
    });
    if (!outcome.repeated && outcome.removed > 0) await deps.onRemoved?.(pool);
    return { removed: outcome.removed, keptAssigned: outcome.keptAssigned };
  }

  return { uploadFile, generate, listUploads, getUpload, undoUpload };
}

export function uploadJsonFields(u: Upload) {
  return {
    id: u.id,
    poolId: u.poolId,
    source: u.source,
    fileName: u.fileName,
    options: u.options,
    status: u.status,
    lines: u.lines,
    imported: u.imported,
    duplicates: u.duplicates,
    rejected: u.rejected,
    errors: u.errors,
    errorCount: u.errorCount,
    blank: u.blank,
    alreadyExpired: u.alreadyExpired,
    createdAt: u.createdAt.toISOString(),
    finishedAt: u.finishedAt?.toISOString() ?? null,
    undoneAt: u.undoneAt?.toISOString() ?? null,
    removed: u.removed ?? null,
    keptAssigned: u.keptAssigned ?? null,
  };
}

export type UploadsService = ReturnType<typeof uploadsService>;

import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectionDriver, connectionDialect, type RawConnection } from './driver.ts';
import { Mutex } from './mutex.ts';
import { withUnitsOfWork } from './unit-of-work.ts';
import { lockDataDir } from './datadir-lock.ts';
import { SQLSTATE } from './sqlstate.ts';
import { isConnectionLoss } from './errors.ts';

export type Engine = 'pglite' | 'postgres';

/** One connection held for a unit of work, with COPY available inside its transactions. */
export interface Session<S> {
  db: Kysely<S>;
  /**
   * Runs `COPY … FROM STDIN` fed with `chunks`, in order. Each chunk must end on a row boundary
   * (PGlite copies chunk by chunk). Returns the number of rows copied.
   */
  copyFrom(copySql: string, chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): Promise<number>;
}

export interface Database<S> {
  engine: Engine;
  db: Kysely<S>;
  /** Pins one connection for `fn`; on PGlite, nobody else uses the database meanwhile. */
  session<T>(fn: (session: Session<S>) => Promise<T>): Promise<T>;
  /**
   * PGlite only: a copy of the data directory (a gzipped tar), taken behind the mutex every query
   * and transaction takes, after a CHECKPOINT: between two transactions, never inside one.
   */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

/** `restoreDataDir` found something in the target directory: it restores into an empty one only. */
export class DataDirNotEmptyError extends Error {
  readonly code = 'data_dir_not_empty';
}

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL; otherwise PGlite in `dataDir` (`memory://` for tests). */
  databaseUrl?: string | undefined;
  dataDir: string;
  schema: string;
  poolSize?: number;
  /** Where the embedded data dir's lock reports a failed heartbeat. */
  logger?: { error(obj: object, msg: string): void };
  /**
   * PGlite in memory only: start from this copy of a data directory (a tar from `dumpDataDir`)
   * instead of an empty one, which skips initdb. The tests start from a migrated one.
   */
  loadDataDir?: Blob | undefined;
}

// int8 counts and ids fit a JS number; a `date` stays the 'YYYY-MM-DD' it is (no local midnight).
const INT8 = 20;
const DATE = 1082;
const toNumber = (v: string) => Number(v);
const asIs = (v: string) => v;

export async function openDatabase<S>(options: DatabaseOptions): Promise<Database<S>> {
  return options.databaseUrl
    ? openPostgres<S>(options.databaseUrl, options.schema, options.poolSize ?? 10)
    : openPglite<S>(options.dataDir, options.schema, options.logger, undefined, options.loadDataDir);
}

/**
 * Fills an empty (or absent) PGlite data directory from a tar of another one (`dumpDataDir`,
 * uncompressed here), then runs `check` on it (its schema version, say) and closes it. All of it
 * under the data-dir lock: a live owner is refused (DataDirInUseError), a directory holding
 * anything is refused (DataDirNotEmptyError), and a failed load or check leaves it empty again.
 */
export async function restoreDataDir<S>(options: {
  dataDir: string;
  schema: string;
  /** Read once the directory is ours and found empty. */
  tarball: () => Promise<Blob>;
  check: (database: Database<S>) => Promise<void>;
}): Promise<void> {
  const database = await openPglite<S>(options.dataDir, options.schema, undefined, options);
  await database.close();
}

async function openPostgres<S>(url: string, schema: string, max: number): Promise<Database<S>> {
  // Behind PgBouncer (transaction pooling) the `options` startup parameter is refused: the schema
  // then comes from the role's settings (README, "Behind PgBouncer"), checked below.
  const pooler = await refusesStartupOptions(url);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // While the server is away, fail a request within 10 s (503) instead of queueing it forever.
    connectionTimeoutMillis: 10_000,
    ...(pooler ? {} : { options: `-c search_path=${schema}` }),
    // UTC sessions: `+ interval '1 day'` means 24 hours everywhere, whatever the server's zone.
    Client: UtcClient,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8 ? toNumber : oid === DATE ? asIs : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A client that loses its server emits 'error': an idle one through the pool (which drops it),
  // a checked-out one (a transaction, a session) on itself. Without a listener on both, a
  // PostgreSQL restart would crash the process. The query in flight, or the next one, fails with
  // the same error; callers see it as connection loss (errors.ts) and the pool connects anew.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  if (schema !== 'public' || pooler) {
    try {
      if (schema !== 'public') {
        await pool.query(`create schema if not exists ${schema}`).catch((err: { code?: string }) => {
          if (err.code !== SQLSTATE.uniqueViolation && err.code !== SQLSTATE.duplicateSchema) throw err; // created by a racing process
        });
      }
      await checkSession(pool, schema, pooler);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }
  const db = new Kysely<S>({ dialect: withUnitsOfWork(new PostgresDialect({ pool })) });
  return {
    engine: 'postgres',
    db,
    async session(fn) {
      const client = await pool.connect();
      const raw: RawConnection = {
        query: async (text, params) => {
          const r = await client.query(text, params as unknown[]);
          return { rows: r.rows, affected: r.rowCount ?? undefined };
        },
      };
      const sessionDb = new Kysely<S>({
        dialect: withUnitsOfWork(connectionDialect(new ConnectionDriver(async () => ({ connection: raw, release: () => {} })))),
      });
      let broken = false;
      try {
        return await fn({
          db: sessionDb,
          async copyFrom(copySql, chunks) {
            const stream = client.query(copyFromStdin(copySql));
            // pg-copy-streams is 40x slower fed row by row: hand it chunks of 64 KB or more.
            await pipeline(Readable.from(coalesce(chunks, 64 * 1024)), stream);
            return Number(stream.rowCount);
          },
        });
      } catch (err) {
        broken = true; // a half-fed COPY leaves the connection unusable: do not pool it again
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Every session runs in UTC. Sent as the `TimeZone` startup parameter, which PostgreSQL applies
 * and PgBouncer keeps per client (it sets it on whichever server connection serves the client).
 */
class UtcClient extends pg.Client {
  getStartupConf(): Record<string, string> {
    const base = (pg.Client.prototype as unknown as { getStartupConf(this: pg.Client): Record<string, string> }).getStartupConf.call(this);
    return { ...base, TimeZone: 'UTC' };
  }
}

/** Whether the server refuses the `options` startup parameter, as PgBouncer does (“unsupported startup parameter”). */
async function refusesStartupOptions(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, options: '-c search_path=public' });
  client.on('error', () => {});
  try {
    await client.connect();
    return false;
  } catch (err) {
    if (/unsupported startup parameter/i.test((err as Error).message ?? '')) return true;
    // Unreachable now: sessions get the options (the first statement fails and is retried as it would be).
    if (isConnectionLoss(err)) return false;
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

const UTC_NAMES = new Set(['utc', 'etc/utc', 'uct', 'etc/uct', 'gmt', 'etc/gmt', 'universal', 'etc/universal', 'zulu', 'etc/zulu']);

/** Sessions must resolve names in `schema` and run in UTC; behind a pooler, through the role's settings. */
async function checkSession(pool: pg.Pool, schema: string, pooler: boolean): Promise<void> {
  const r = await pool.query<{ schema: string | null; path: string; tz: string; role: string }>(
    `select current_schema() as schema, current_setting('search_path') as path, current_setting('TimeZone') as tz, current_user as role`,
  );
  const s = r.rows[0]!;
  const problems: string[] = [];
  if (s.schema !== schema)
    problems.push(
      `search_path is "${s.path}", so names resolve in ${s.schema ?? 'no schema (missing, or the role has no USAGE on it)'}, not in "${schema}"`,
    );
  if (!UTC_NAMES.has(s.tz.toLowerCase())) problems.push(`the time zone is ${s.tz}, not UTC`);
  if (problems.length === 0) return;
  const fix = pooler
    ? `The server refuses the startup option that sets the schema (a pooler such as PgBouncer in transaction mode): ` +
      `set it on the role once, \`ALTER ROLE "${s.role}" SET search_path = ${schema}\`, then let the pooler reconnect ` +
      `(PgBouncer: RECONNECT in its console, or restart it).`
    : `Check the role's and the database's settings (ALTER ROLE/DATABASE … RESET search_path, timezone).`;
  throw new Error(`DATABASE_SCHEMA is "${schema}" but the database sessions do not match: ${problems.join('; ')}. ${fix}`);
}

async function openPglite<S>(
  dataDir: string,
  schema: string,
  logger?: DatabaseOptions['logger'],
  restore?: { tarball: () => Promise<Blob>; check: (database: Database<S>) => Promise<void> },
  copyOf?: Blob,
): Promise<Database<S>> {
  const inMemory = dataDir.startsWith('memory://');
  if (copyOf && !inMemory) throw new Error('loadDataDir is for a database in memory (restoreDataDir fills one on disk)');
  const existed = existsSync(dataDir);
  const unlock = inMemory
    ? async () => {}
    : await lockDataDir(dataDir, {
        onHeartbeatError: logger && ((err) => logger.error({ err }, 'the data-dir lock heartbeat stopped')),
      });
  // A restore fills an empty directory; on failure what it wrote goes (ours: it was empty), and
  // a directory it created with it.
  const pgdata = join(dataDir, 'pgdata');
  let restoring = false;
  const undoRestore = () => {
    if (restoring) rmSync(pgdata, { recursive: true, force: true });
  };
  const unlockAfterRestore = async () => {
    await unlock();
    if (!restoring || existed) return;
    try {
      rmdirSync(dataDir); // empty again (pgdata and the lock are gone), unless someone wrote there since
    } catch {
      // not empty: left as it is
    }
  };
  let pglite: PGlite;
  try {
    if (restore) {
      if (inMemory) throw new Error('a restore needs a data directory on disk');
      const found = readdirSync(dataDir).filter((name) => name !== 'couponflow.lock');
      if (found.length > 0) {
        throw new DataDirNotEmptyError(
          `the data directory ${dataDir} is not empty (${found.slice(0, 3).join(', ')}${found.length > 3 ? ', …' : ''}): restore into an empty or new directory (set DATA_DIR)`,
        );
      }
      restoring = true;
    }
    pglite = await PGlite.create(inMemory ? dataDir : pgdata, {
      parsers: { [INT8]: toNumber, [DATE]: asIs },
      ...(restore ? { loadDataDir: await restore.tarball() } : copyOf && { loadDataDir: copyOf }),
    });
  } catch (err) {
    undoRestore();
    await unlockAfterRestore();
    throw err;
  }
  await pglite.exec(
    schema === 'public'
      ? `set timezone to 'UTC'`
      : `create schema if not exists ${schema}; set search_path to ${schema}; set timezone to 'UTC'`,
  );
  const raw: RawConnection = {
    // Like pg, a query without parameters goes by the simple protocol, so a migration may hold
    // several statements.
    query: async (text, params) => {
      if (params.length === 0) {
        const results = await pglite.exec(text);
        const last = results[results.length - 1];
        return { rows: last?.rows ?? [], affected: last?.affectedRows };
      }
      const r = await pglite.query(text, params as unknown[]);
      return { rows: r.rows, affected: r.affectedRows };
    },
  };
  const mutex = new Mutex();
  let keep = true;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await mutex.run(() => pglite.close());
      if (keep) return unlock();
      undoRestore();
      await unlockAfterRestore();
    })());
  const db = new Kysely<S>({
    dialect: withUnitsOfWork(
      connectionDialect(new ConnectionDriver(async () => ({ connection: raw, release: await mutex.lock() }), close)),
    ),
  });
  const database: Database<S> = {
    engine: 'pglite',
    db,
    session: (fn) =>
      mutex.run(() =>
        fn({
          db: new Kysely<S>({
            dialect: withUnitsOfWork(connectionDialect(new ConnectionDriver(async () => ({ connection: raw, release: () => {} })))),
          }),
          async copyFrom(copySql, chunks) {
            // PGlite copies only from a '/dev/blob' it reads whole: feed it a few MB at a time.
            const sqlText = copySql.replace(/\bfrom\s+stdin\b/i, `from '/dev/blob'`);
            let rows = 0;
            for await (const chunk of coalesce(chunks, 4 * 1024 * 1024)) {
              const r = await pglite.query(sqlText, [], { blob: new Blob([chunk as Uint8Array<ArrayBuffer>]) });
              rows += r.affectedRows ?? 0;
            }
            return rows;
          },
        }),
      ),
    dumpDataDir: () =>
      mutex.run(async () => {
        // Dirty pages written out first: the copy then needs no WAL replay when it is opened.
        await pglite.exec('checkpoint');
        return pglite.dumpDataDir('gzip');
      }),
    // Kysely destroys a driver only once it ran a query: a database only dumped is closed here.
    close: async () => {
      await db.destroy();
      await close();
    },
  };
  if (restore) {
    try {
      await restore.check(database);
    } catch (err) {
      keep = false;
      await database.close();
      throw err;
    }
  }
  return database;
}

/** Joins small chunks into buffers of at least `min` bytes, keeping order; big ones pass as they are. */
async function* coalesce(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  min: number,
): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (size === 0 && buf.length >= min) {
      yield buf;
      continue;
    }
    parts.push(buf);
    size += buf.length;
    if (size >= min) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

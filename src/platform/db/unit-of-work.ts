import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryResult, type TransactionSettings } from 'kysely';

/**
 * A unit of work: one API call that changes state, and a statement that must be committed with
 * that change, in the SAME transaction, or not at all (the audit record, modules/audit). The
 * Kysely driver below runs it:
 *
 * - inside the first transaction of the unit of work that wrote something, just before its
 *   COMMIT (a failure of the statement rolls the change back; a rolled-back change takes the
 *   statement with it);
 * - around a write that runs outside any transaction (an autocommit INSERT/UPDATE/DELETE): the
 *   driver wraps that one statement in BEGIN … the statement … COMMIT.
 *
 * So no service has to know about it, and nothing is written after the commit. Reads never carry
 * it. One statement per unit of work: once it is committed, later transactions run plain.
 */
export interface UnitOfWork {
  /** The statement to commit with the change, or undefined when there is none (anymore). */
  claim(): CompiledQuery | undefined;
  /** The claimed statement's transaction committed. */
  committed(): void;
  /** The claimed statement's transaction failed: claim() hands it out again. */
  released(): void;
  /** An id was minted during the unit of work (platform/ids.ts). */
  minted?(id: string): void;
}

const storage = new AsyncLocalStorage<UnitOfWork>();

/** Runs `fn` (and everything it starts) as `work`. */
export const runAsUnitOfWork = <T>(work: UnitOfWork, fn: () => T): T => storage.run(work, fn);
/** Runs `fn` outside any unit of work (housekeeping writes started during a call). */
export const outsideUnitOfWork = <T>(fn: () => T): T => storage.exit(fn);
export const currentUnitOfWork = (): UnitOfWork | undefined => storage.getStore();

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

/** Does this statement change data? Raw SQL: by its words (row locks of a SELECT are not writes). */
export function isWrite(query: CompiledQuery): boolean {
  const kind = query.query.kind;
  if (WRITE_KINDS.has(kind)) return true;
  if (kind !== 'RawNode') return false;
  const text = query.sql.replace(/\bfor\s+(no\s+key\s+)?(update|share)\b/gi, ' ');
  return /\b(insert|update|delete|merge|truncate)\b/i.test(text);
}

/** Wraps a dialect so that its driver commits each unit of work's statement with its change. */
export function withUnitsOfWork(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new UnitOfWorkDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class TrackedConnection implements DatabaseConnection {
  inTransaction = false;
  wrote = false;
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const write = isWrite(query);
    if (this.inTransaction) {
      const result = await this.inner.executeQuery<R>(query);
      if (write && changedRows(result)) this.wrote = true;
      return result;
    }
    const work = write ? storage.getStore() : undefined;
    const statement = work?.claim();
    if (!work || !statement) return this.inner.executeQuery<R>(query);
    // An autocommit write of a unit of work: the write and its statement in one transaction.
    await this.inner.executeQuery(raw('begin'));
    try {
      const result = await this.inner.executeQuery<R>(query);
      // A write that matched nothing (an update of a missing row) changed nothing: no entry.
      const changed = changedRows(result);
      if (changed) await this.inner.executeQuery(statement);
      await this.inner.executeQuery(raw('commit'));
      if (changed) work.committed();
      else work.released();
      return result;
    } catch (err) {
      work.released();
      await this.inner.executeQuery(raw('rollback')).catch(() => undefined);
      throw err;
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

const raw = (sql: string) => CompiledQuery.raw(sql);

/** Did a write change anything? Its row count, or (when the driver gives none) the rows it returned. */
const changedRows = (result: QueryResult<unknown>) =>
  result.numAffectedRows !== undefined ? result.numAffectedRows > 0n : result.rows.length > 0;

class UnitOfWorkDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init = () => this.inner.init();
  destroy = () => this.inner.destroy();

  async acquireConnection(): Promise<DatabaseConnection> {
    return new TrackedConnection(await this.inner.acquireConnection());
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection((conn as TrackedConnection).inner);
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const tracked = conn as TrackedConnection;
    await this.inner.beginTransaction(tracked.inner, settings);
    tracked.inTransaction = true;
    tracked.wrote = false;
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const tracked = conn as TrackedConnection;
    const work = tracked.wrote ? storage.getStore() : undefined;
    const statement = work?.claim();
    try {
      // A failure here throws into Kysely, which rolls the transaction back.
      if (statement) await tracked.inner.executeQuery(statement);
      await this.inner.commitTransaction(tracked.inner);
    } catch (err) {
      if (statement) work?.released();
      throw err;
    } finally {
      tracked.inTransaction = false;
    }
    if (statement) work?.committed();
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const tracked = conn as TrackedConnection;
    tracked.inTransaction = false;
    await this.inner.rollbackTransaction(tracked.inner);
  }
}

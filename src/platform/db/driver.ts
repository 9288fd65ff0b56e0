import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** The little we need from a live connection, whichever engine is behind it. */
export interface RawConnection {
  query(sql: string, params: readonly unknown[]): Promise<{ rows: unknown[]; affected?: number }>;
}

/**
 * A Kysely driver over connections we hand it ourselves. Kysely 0.29 ships a PGlite dialect but
 * declares Node >= 22; we run on Node 20, so we keep this small adapter on Kysely 0.28 instead.
 * It serves two cases: PGlite (one connection, taken in turns through a mutex) and a "session"
 * pinned to one connection of either engine (used where we need COPY inside a transaction).
 */
export class ConnectionDriver implements Driver {
  constructor(
    private readonly acquire: () => Promise<{ connection: RawConnection; release: () => void }>,
    private readonly onDestroy: () => Promise<void> = async () => {},
  ) {}

  #releases = new WeakMap<DatabaseConnection, () => void>();

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const { connection, release } = await this.acquire();
    const wrapped = new KyselyConnection(connection);
    this.#releases.set(wrapped, release);
    return wrapped;
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await conn.executeQuery(CompiledQuery.raw(`begin${isolation}`));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    this.#releases.get(conn)?.();
    this.#releases.delete(conn);
  }

  async destroy(): Promise<void> {
    await this.onDestroy();
  }
}

class KyselyConnection implements DatabaseConnection {
  constructor(private readonly raw: RawConnection) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.raw.query(compiled.sql, compiled.parameters);
    const affected = result.affected;
    return {
      rows: result.rows as R[],
      ...(affected !== undefined ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported; page with keyset cursors instead');
  }
}

export function connectionDialect(driver: Driver): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

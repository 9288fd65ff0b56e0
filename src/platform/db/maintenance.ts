import { sql, type Kysely } from 'kysely';

/**
 * PGlite has no autovacuum: the embedded mode runs VACUUM ANALYZE itself, on a schedule. Dead rows
 * left by claims and updates would otherwise pile up and slow every scan.
 */
export function scheduleVacuum(db: Kysely<unknown>, intervalMs: number, onError: (err: unknown) => void): () => void {
  if (intervalMs <= 0) return () => {};
  const timer = setInterval(() => {
    sql`vacuum analyze`.execute(db).catch(onError);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

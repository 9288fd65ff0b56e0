import { Readable } from 'node:stream';
import type { HttpApp } from '../../platform/http/app.ts';
import { DomainError } from '../../platform/errors.ts';
import type { AppDatabase } from '../../schema.ts';
import { pgDumpCommand } from '../../platform/db/backup-file.ts';

/**
 * `GET /v1/backup` (installation admin only): the embedded database, as a gzipped tar of its data
 * directory, for `couponflow backup FILE` while `serve` owns that directory. Taken behind the
 * PGlite mutex (database.ts), so it holds every transaction committed before it and none of those
 * after: a transaction under way when it is asked for (an upload) ends first.
 */
export function backupRoutes(app: HttpApp, database: AppDatabase, schema = 'public') {
  app.get(
    '/v1/backup',
    {
      schema: {
        tags: ['installation'],
        summary: 'A consistent copy of the embedded (PGlite) database: a gzipped tar of its data directory (installation admin only)',
        description:
          'Answers once the transactions under way have ended; the copy is held in memory while it is sent. `couponflow restore FILE` loads it into an empty data directory. On PostgreSQL: 409 `not_embedded` (use pg_dump).',
      },
    },
    async (_request, reply) => {
      if (!database.dumpDataDir) {
        throw new DomainError(
          'conflict',
          'not_embedded',
          `This server runs on PostgreSQL: back it up with pg_dump (${pgDumpCommand('couponflow.dump', schema)}).`,
        );
      }
      const dump = await database.dumpDataDir();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .type('application/gzip')
        .header('content-length', dump.size)
        .header('content-disposition', `attachment; filename="couponflow-${stamp}.tar.gz"`)
        .send(Readable.fromWeb(dump.stream() as import('node:stream/web').ReadableStream));
    },
  );
}

import { defineConfig } from 'vitest/config';

/**
 * The PostgreSQL suites that exercise sessions, locks and concurrency, once more through a
 * PgBouncer in transaction pooling mode (test/helpers/pgbouncer-setup.ts): `npm run test:pgbouncer`.
 */
export default defineConfig({
  test: {
    include: [
      'test/assignments/concurrency.test.ts',
      'test/assignments/assignments.test.ts',
      'test/assignments/single.test.ts',
      'test/conductor/workers.test.ts',
      'test/segmentation/events.test.ts',
      'test/pools/uploads.test.ts',
      'test/foundation/bootstrap.test.ts',
    ],
    // Within CI's budget (about two minutes more): the heaviest variants stay in the main run only.
    testNamePattern: /^(?!.*(SIGKILL|\(batch\)))/,
    // pgbouncer-setup first: it sets TEST_ENGINES=postgres, so global-setup migrates no PGlite.
    globalSetup: ['test/helpers/pgbouncer-setup.ts', 'test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});

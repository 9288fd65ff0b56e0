import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A migrated PGlite data directory and the console build, made once per run (test/helpers/global-setup.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that spawn processes or open PGlite are heavy; two at a time fits CI's two cores.
    maxWorkers: 2,
  },
});

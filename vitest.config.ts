import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that spawn processes or open PGlite are heavy; two at a time fits CI's two cores.
    maxWorkers: 2,
  },
});

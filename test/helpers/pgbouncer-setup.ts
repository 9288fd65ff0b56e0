import { startPgBouncer, type PgBouncer } from './pgbouncer.ts';

/**
 * vitest.pgbouncer.config.ts's global setup: one PgBouncer (transaction pooling) in front of the
 * PostgreSQL the suites would use. engines.ts reads TEST_PGBOUNCER_URL and puts every suite's
 * connections through it, each suite as a role of its own whose search_path names its schema.
 */
let bouncer: PgBouncer | undefined;

export async function setup() {
  const upstream = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  bouncer = await startPgBouncer(upstream);
  process.env.TEST_PGBOUNCER_URL = bouncer.url();
  process.env.TEST_ENGINES = 'postgres';
}

export async function teardown() {
  await bouncer?.stop();
}

/**
 * A process that checks one pool's notices in several loops at once (the notice race test spawns
 * it), with its event loop stalled now and then (as a GC pause or CPU work would): a check that
 * has read the pool's state may act on it only after others have acted.
 * env: DATABASE_URL, DATABASE_SCHEMA, ACCOUNT_ID, POOL_ID, LOOPS, STALL_MS. Prints "ready", runs
 * until SIGTERM, then prints the number of checks made.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';
import { createServices } from '../../src/app.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

const env = process.env;
const database = await openDatabase<DB>({
  databaseUrl: env.DATABASE_URL,
  dataDir: '',
  schema: env.DATABASE_SCHEMA!,
  poolSize: Number(env.LOOPS),
});
const services = createServices({
  config: { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1 << 20, UPLOAD_LIMIT_BYTES: 1 << 20, DEFAULT_TIME_ZONE: 'UTC' },
  database,
  clock: systemClock,
});
const pool = await services.pools.getPoolFor(ownerPrincipal(env.ACCOUNT_ID!, 'test'), env.POOL_ID!);
const stall = Number(env.STALL_MS);
const stalls = setInterval(() => {
  const until = Date.now() + stall;
  while (Date.now() < until) {
    // the event loop is blocked: answers from the database wait
  }
}, stall + 3);
let stopping = false;
let checks = 0;
const loops = Array.from({ length: Number(env.LOOPS) }, async () => {
  while (!stopping) {
    await services.assignments.checkNotices(pool);
    checks++;
  }
});
process.on('SIGTERM', () => (stopping = true));
console.log('ready');
await Promise.all(loops);
clearInterval(stalls);
await database.close();
console.log(String(checks));

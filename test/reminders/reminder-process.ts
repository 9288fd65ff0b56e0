/**
 * The expiry-reminder job in a process of its own, at an injected time (the reminders suite runs
 * two at once). env: DATABASE_URL, DATABASE_SCHEMA, NOW (ISO). Prints {recorded} on its last line.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';
import { createServices } from '../../src/app.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 4 });
const services = createServices({
  config: { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1 << 20, UPLOAD_LIMIT_BYTES: 1 << 20, DEFAULT_TIME_ZONE: 'UTC' },
  database,
  clock: new ManualClock(new Date(env.NOW!)),
});
// Small batches, so that the two processes interleave over many claims.
const result = await services.reminders.runDue(2);
await services.renderPool.close();
await database.close();
console.log(JSON.stringify(result));

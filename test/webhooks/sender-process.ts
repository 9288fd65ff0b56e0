/**
 * A webhook sender in a process of its own (the crash test spawns it and kills it mid-POST).
 * env: DATABASE_URL, DATABASE_SCHEMA. Runs one deliverDue with the real clock.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { installationSecret } from '../../src/platform/secret.ts';
import type { DB } from '../../src/schema.ts';
import { webhooksService } from '../../src/modules/webhooks/service.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 2 });
const webhooks = webhooksService({
  database,
  clock: systemClock,
  secret: installationSecret(database, undefined),
  policy: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000, batchSize: 100, leaseMs: 60_000, timeoutMs: 60_000, allowPrivate: true },
});
console.log('sending');
console.log(JSON.stringify(await webhooks.deliverDue()));
await database.close();

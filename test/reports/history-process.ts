/**
 * One of several processes running the daily-history job at the same instant (the exactly-once
 * test spawns it). env: DATABASE_URL, DATABASE_SCHEMA, NOW (ISO instant). Prints {written} as
 * JSON on its last line: the rows this process inserted.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';
import { accountsService } from '../../src/modules/accounts/service.ts';
import { poolsService } from '../../src/modules/pools/service.ts';
import { reportsService } from '../../src/modules/reports/service.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 2 });
const clock = new ManualClock(new Date(env.NOW!));
const accounts = accountsService(database);
const reports = reportsService({ database, clock, accounts, pools: poolsService({ database, clock, accounts }) });
// Two runs in a row, as a job that runs again after its interval: the second must find nothing to do.
const written = (await reports.recordDailyHistory()) + (await reports.recordDailyHistory());
await database.close();
console.log(JSON.stringify({ written }));

import { openDatabase } from '../src/platform/db/database.ts';
import { sql } from 'kysely';
for (const url of [process.argv[2]!]) {
  try {
    const d = await openDatabase<any>({ databaseUrl: url, dataDir: '', schema: process.argv[3]!, poolSize: 2 });
    const r = await sql`select current_schema() s, current_setting('TimeZone') tz`.execute(d.db);
    console.log(url, r.rows);
    await d.close();
  } catch (e) { console.log('ERR', (e as Error).message); }
}

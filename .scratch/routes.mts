import { openDatabase } from '/work/h8/src/platform/db/database.ts';
import { migrate } from '/work/h8/src/platform/db/migrate.ts';
import { migrations } from '/work/h8/src/migrations/index.ts';
import { testApp } from '/work/h8/test/helpers/app.ts';
const database = await openDatabase<any>({ dataDir: 'memory://', schema: 'public' });
await migrate(database.db as never, migrations, 'public');
const app = await testApp(database as any);
for (const r of app.http.routeTable) console.log(r.method, r.url, r.public ? 'PUBLIC' : '');
await app.http.close(); process.exit(0);

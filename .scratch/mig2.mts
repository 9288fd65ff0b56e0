import { openDatabase } from '/work/h8/src/platform/db/database.ts';
import { migrate } from '/work/h8/src/platform/db/migrate.ts';
import { migrations } from '/work/h8/src/migrations/index.ts';
let t0 = Date.now();
const db = await openDatabase<any>({ dataDir: 'memory://', schema: 'public' });
console.log('opened in', Date.now() - t0, 'ms');
for (const m of migrations) { t0 = Date.now(); await migrate(db.db as never, migrations.slice(0, m.version), 'public'); console.log(m.name, Date.now() - t0, 'ms'); }
await db.close();
process.exit(0);

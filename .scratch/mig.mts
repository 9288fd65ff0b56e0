import { openMigratedDatabase } from '/work/h8/test/helpers/engines.ts';
const t0 = Date.now();
const db = await openMigratedDatabase('pglite');
console.log('migrated in', Date.now() - t0, 'ms');
await db.close();
process.exit(0);

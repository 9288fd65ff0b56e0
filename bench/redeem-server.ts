/**
 * The server of `npm run bench -- redeem`, in a process of its own (PGlite in memory, or
 * PostgreSQL with DATABASE_URL/DATABASE_SCHEMA): migrates, makes an account, a merchant and pools
 * whose codes are already handed out (set-wise SQL: the assignment path has its own benchmark),
 * listens, and prints {url, token, merchantId} as JSON. env: CODES (assigned codes R1…RN),
 * IMPORT_CODES (unassigned codes I1…IN for the import run).
 * On a stdin line `redeem <seconds>` or `validate <seconds>` it runs the baseline in this process,
 * on this database: 32 concurrent loops of the bare redeem statement (each redeeming the next
 * assigned code of the baseline pool) or of the bare candidates read, and prints {n, ms, p50, p99}.
 */
import { sql } from 'kysely';
import { createApp } from '../src/app.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { migrations } from '../src/migrations/index.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { DB } from '../src/schema.ts';
import { newId } from '../src/platform/ids.ts';
import { candidatesStatement, redeemStatement } from '../src/modules/redemptions/redemptions.sql.ts';
import { createInterface } from 'node:readline';
import { ownerPrincipal } from '../src/modules/accounts/principal.ts';

const env = process.env;
const schema = env.DATABASE_SCHEMA ?? 'public';
const database = env.DATABASE_URL
  ? await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema, poolSize: 32 })
  : await openDatabase<DB>({ dataDir: 'memory://', schema });
await migrate(database.db as never, migrations, schema);
const app = await createApp({
  config: { LOG_LEVEL: 'warn', DEFAULT_TIME_ZONE: 'UTC', BODY_LIMIT_BYTES: 1024 * 1024, UPLOAD_LIMIT_BYTES: 1024 * 1024 * 1024 },
  database,
  clock: systemClock,
});
const { account, token } = await app.services.accounts.createAccountFromCli({ name: 'bench' });
const principal = ownerPrincipal(account.id, 'bench');
const merchant = await app.services.accounts.createMerchant(principal, { name: 'bench', domain: 'bench.example.com' });
const db = database.db;

async function assignedPool(name: string, prefix: string, count: number) {
  const pool = await app.services.pools.createPool(principal, merchant.id, { name, type: 'unique' });
  await sql`insert into codes (account_id, pool_key, code, expires_at, assigned_at)
    select ${account.id}, ${pool.key}, ${prefix} || g, timestamptz '2030-01-01', now() from generate_series(1, ${count}) g`.execute(db);
  await sql`insert into contacts (account_id, id, email)
    select ${account.id}, ${prefix} || '-c' || g, ${prefix} || '-c' || g || '@example.com' from generate_series(1, ${count}) g`.execute(db);
  await sql`insert into assignments (account_id, id, pool_key, contact_id, idempotency_key, source, code_id, code, expires_at, created_at)
    select ${account.id}, gen_random_uuid()::text, ${pool.key}, ${prefix} || '-c' || substr(c.code, ${prefix.length + 1}), c.code, 'unique', c.id, c.code, c.expires_at, now()
    from codes c where c.pool_key = ${pool.key}`.execute(db);
  return pool;
}

const codes = Number(env.CODES ?? 100_000);
const http = await assignedPool('http', 'R', codes);
const base = await assignedPool('baseline', 'B', codes);
const importCodes = Number(env.IMPORT_CODES ?? 0);
if (importCodes > 0) {
  const pool = await app.services.pools.createPool(principal, merchant.id, { name: 'import', type: 'unique' });
  await sql`insert into codes (account_id, pool_key, code, expires_at)
    select ${account.id}, ${pool.key}, 'I' || g, 'infinity' from generate_series(1, ${importCodes}) g`.execute(db);
}
await sql`analyze`.execute(db);
await app.http.listen({ host: '127.0.0.1', port: 0 });
const address = app.http.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
console.log(
  JSON.stringify({
    url: `http://127.0.0.1:${port}`,
    token,
    accountId: account.id,
    merchantId: merchant.id,
    httpPool: http.key,
    basePool: base.key,
  }),
);
const baseCodes = (await sql<{ id: number; code: string }>`select id, code from codes where pool_key = ${base.key} order by id`.execute(db))
  .rows;
let next = 0;
async function baseline(kind: string, seconds: number) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const c = baseCodes[next++ % baseCodes.length]!;
        const t = performance.now();
        if (kind === 'redeem') {
          const now = new Date();
          const r = await redeemStatement({
            accountId: account.id,
            id: newId(),
            merchantId: merchant.id,
            poolKey: base.key,
            code: c.code,
            codeId: Number(c.id),
            kind: 'unique',
            contactId: null,
            email: null,
            orderId: `base-${c.code}`,
            amount: null,
            currency: null,
            source: 'api',
            redeemedAt: now,
            now,
            strict: { assignee: null },
          }).execute(db);
          if (r.rows.length !== 1) throw new Error('baseline redemption recorded nothing');
        } else {
          await candidatesStatement({ accountId: account.id, merchantId: merchant.id, code: c.code, email: null, orderId: null }).execute(
            db,
          );
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  console.log(JSON.stringify({ n: latencies.length, ms, p50: at(50), p99: at(99) }));
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [kind, seconds] = line.trim().split(/\s+/);
  baseline(kind!, Number(seconds)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
});
process.on(
  'SIGTERM',
  () =>
    void app.http
      .close()
      .then(() => database.close())
      .then(() => process.exit(0)),
);

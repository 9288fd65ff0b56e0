import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { migrations } from '../src/migrations/index.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { DB } from '../src/schema.ts';
import { accountsService } from '../src/modules/accounts/service.ts';
import { poolsService } from '../src/modules/pools/service.ts';
import { contactsService } from '../src/modules/contacts/service.ts';
import { assignmentsService } from '../src/modules/assignments/service.ts';
import { claimStatement } from '../src/modules/assignments/assignments.sql.ts';
import { ApiClient } from '../src/cli/api-client.ts';
import { startServer } from './server.ts';
import { ownerPrincipal } from '../src/modules/accounts/principal.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CODES = Number(process.env.BENCH_ASSIGN_CODES ?? 100_000);
const BATCH = 1000;
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
/** Codes in the pools of the HTTP run and its baseline: more than 32 clients take in HTTP_SECONDS. */
const HTTP_CODES = Number(process.env.BENCH_HTTP_CODES ?? 500_000);

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const principalOf = (accountId: string) => ownerPrincipal(accountId, 'bench');

/** Fills a pool with `codes` codes straight through SQL (the upload path has its own benchmark). */
async function fillPool(db: Database<DB>['db'], poolKey: number, accountId: string, codes: number, tag: string) {
  await sql`insert into codes (account_id, pool_key, code, expires_at)
    select ${accountId}, ${poolKey}, ${tag} || g, timestamptz '2030-01-01' + (g % 60) * interval '1 day' from generate_series(1, ${codes}) g`.execute(
    db,
  );
  await sql`insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
    select ${accountId}, ${poolKey}, expires_at, 0, count(*), count(*) from codes where pool_key = ${poolKey} group by expires_at`.execute(
    db,
  );
  await sql`analyze codes`.execute(db);
}

async function setup(database: Database<DB>, schema: string) {
  await migrate(database.db as never, migrations, schema);
  const accounts = accountsService(database);
  const { account } = await accounts.createAccountFromCli({ name: 'bench' });
  const principal = principalOf(account.id);
  const merchant = await accounts.createMerchant(principal, { name: 'bench', domain: 'bench.example.com' });
  const pools = poolsService({ database, clock: systemClock, accounts });
  const contacts = contactsService({ database });
  const assignments = assignmentsService({ database, clock: systemClock, accounts, pools, contacts, notify: async () => {} });
  return { accounts, pools, contacts, assignments, principal, merchant };
}

/**
 * assignMany in batches of 1,000 over CODES contacts; baseline: the bare claim of 1,000 (the same
 * claimStatement, each in its own transaction) in a loop on another pool of the same codes table,
 * filled the same way. Latencies are per batch.
 */
async function batchRun(database: Database<DB>, schema: string) {
  const s = await setup(database, schema);
  const pool = await s.pools.createPool(s.principal, s.merchant.id, { name: 'batch', type: 'unique' });
  await fillPool(database.db, pool.key, s.principal.accountId, CODES, 'B');
  // Contacts exist beforehand: the conversation engine assigns to known contacts.
  await sql`insert into contacts (account_id, id, email) select ${s.principal.accountId}, 'c' || g, 'c' || g || '@example.com' from generate_series(1, ${CODES}) g`.execute(
    database.db,
  );
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < CODES; i += BATCH) {
    const requests = Array.from({ length: Math.min(BATCH, CODES - i) }, (_, j) => ({
      contactId: `c${i + j + 1}`,
      idempotencyKey: `k${i + j + 1}`,
    }));
    const t = performance.now();
    const out = await s.assignments.assignMany(pool, requests);
    latencies.push(performance.now() - t);
    if (out.some((o) => !o.ok || o.assignment.source !== 'unique')) throw new Error('batch assignment fell short');
  }
  const ms = performance.now() - t0;

  const base = await s.pools.createPool(s.principal, s.merchant.id, { name: 'baseline', type: 'unique' });
  await fillPool(database.db, base.key, s.principal.accountId, CODES, 'Z');
  const baseLatencies: number[] = [];
  const b0 = performance.now();
  let claimed = 0;
  while (claimed < CODES) {
    const now = new Date();
    const t = performance.now();
    const r = await database.db
      .transaction()
      .execute((tx) => claimStatement({ poolKey: base.key, eligibleFrom: now, count: Math.min(BATCH, CODES - claimed), now }).execute(tx));
    baseLatencies.push(performance.now() - t);
    if (r.rows.length === 0) throw new Error('baseline claim fell short');
    claimed += r.rows.length;
  }
  const bms = performance.now() - b0;
  return { run: summary(CODES, ms, latencies), base: summary(CODES, bms, baseLatencies) };
}

interface Summary {
  perSec: number;
  p50: number;
  p99: number;
}

function summary(n: number, ms: number, latencies: number[]): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { perSec: rate(n, ms), p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const fmt = (x: Summary) => `${x.perSec.toLocaleString()}/s, p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms`;

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Single assignments over HTTP, 32 concurrent clients (autocannon), against a server process. */
async function httpRun(env: Record<string, string>) {
  const server = await startServer(env);
  try {
    const api = new ApiClient(server.url, server.token);
    const merchants = await api.request<{ items: { id: string }[] }>('GET', '/v1/merchants');
    const pool = await api.request<{ id: string }>('POST', `/v1/merchants/${merchants.items[0]!.id}/pools`, {
      name: `http-${randomBytes(3).toString('hex')}`,
      type: 'unique',
    });
    const generated = await api.request<{ imported: number }>('POST', `/v1/pools/${pool.id}/generate`, { count: HTTP_CODES, length: 10 });
    if (generated.imported !== HTTP_CODES) throw new Error('could not fill the pool');
    let seq = 0;
    const result = await autocannon({
      url: `${server.url}/v1/pools/${pool.id}/assignments`,
      connections: 32,
      duration: HTTP_SECONDS,
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (req) => {
            const n = seq++;
            return { ...req, body: JSON.stringify({ email: `h${n}@example.com`, idempotencyKey: `h${n}` }) };
          },
        },
      ],
    });
    const ok = result['2xx'];
    const bad = result.non2xx + result.errors;
    if (bad > 0) console.log(`  (http: ${bad} failed requests)`);
    return { perSec: Math.round(ok / HTTP_SECONDS), p50: result.latency.p50, p99: result.latency.p99, rss: server.peakRssMb() };
  } finally {
    await server.stop();
  }
}

/**
 * Baseline for the HTTP run: the bare one-row claim (autocommit, as a lone assignment is), 32
 * concurrent loops over the engine's connections, on a pool filled like the HTTP one.
 */
async function bareSingleClaims(seconds: number, engine: 'postgres' | 'pglite'): Promise<Summary> {
  const schema = engine === 'postgres' ? `bench_${randomBytes(4).toString('hex')}` : 'public';
  const database =
    engine === 'postgres'
      ? await openDatabase<DB>({ databaseUrl: PG_URL, dataDir: '', schema, poolSize: 32 })
      : await openDatabase<DB>({ dataDir: 'memory://', schema });
  const s = await setup(database, schema);
  const pool = await s.pools.createPool(s.principal, s.merchant.id, { name: 'single-base', type: 'unique' });
  await fillPool(database.db, pool.key, s.principal.accountId, HTTP_CODES, 'S');
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const now = new Date();
        await claimStatement({ poolKey: pool.key, eligibleFrom: now, count: 1, now }).execute(database.db);
        latencies.push(performance.now() - t);
      }
    }),
  );
  await database.close();
  if (engine === 'postgres') await dropSchema(schema);
  return summary(latencies.length, seconds * 1000, latencies);
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

export async function run() {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pgDb = await openDatabase<DB>({ databaseUrl: PG_URL, dataDir: '', schema, poolSize: 10 });
  const pgBatch = await batchRun(pgDb, schema);
  await pgDb.close();
  await dropSchema(schema);
  console.log(
    `PostgreSQL  assignMany, ${CODES.toLocaleString()} codes in batches of ${BATCH}: ${fmt(pgBatch.run)} per batch (goal >= 50,000/s)`,
  );
  console.log(
    `PostgreSQL  bare claim of ${BATCH} in a loop: ${fmt(pgBatch.base)}; ratio ${(pgBatch.run.perSec / pgBatch.base.perSec).toFixed(2)} (goal >= 0.6)`,
  );

  const liteDb = await openDatabase<DB>({ dataDir: 'memory://', schema: 'public' });
  const liteBatch = await batchRun(liteDb, 'public');
  await liteDb.close();
  console.log(
    `PGlite      assignMany, ${CODES.toLocaleString()} codes in batches of ${BATCH}: ${fmt(liteBatch.run)} per batch (goal >= 30,000/s)`,
  );
  console.log(
    `PGlite      bare claim of ${BATCH} in a loop: ${fmt(liteBatch.base)}; ratio ${(liteBatch.run.perSec / liteBatch.base.perSec).toFixed(2)} (goal >= 0.6)`,
  );

  const httpSchema = `bench_${randomBytes(4).toString('hex')}`;
  const http = await httpRun({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: httpSchema, DATABASE_POOL_SIZE: '32' });
  await dropSchema(httpSchema);
  const bare = await bareSingleClaims(HTTP_SECONDS, 'postgres');
  console.log(
    `PostgreSQL  HTTP single assignments, 32 clients: ${http.perSec.toLocaleString()}/s, p50 ${http.p50} ms, p99 ${http.p99} ms (goals >= 3,000/s, p99 <= 30 ms)`,
  );
  console.log(
    `PostgreSQL  bare one-row claim, 32 connections: ${fmt(bare)}; ratio ${(http.perSec / bare.perSec).toFixed(2)} (goal >= 0.6)`,
  );

  const dataDir = join(tmpdir(), `couponflow-bench-${randomBytes(4).toString('hex')}`);
  const liteHttp = await httpRun({ DATA_DIR: dataDir });
  rmSync(dataDir, { recursive: true, force: true });
  const liteBare = await bareSingleClaims(HTTP_SECONDS, 'pglite');
  console.log(
    `PGlite      HTTP single assignments, 32 clients: ${liteHttp.perSec.toLocaleString()}/s, p50 ${liteHttp.p50} ms, p99 ${liteHttp.p99} ms`,
  );
  console.log(
    `PGlite      bare one-row claim, 32 concurrent loops: ${fmt(liteBare)}; ratio ${(liteHttp.perSec / liteBare.perSec).toFixed(2)} (goal >= 0.6)`,
  );
}

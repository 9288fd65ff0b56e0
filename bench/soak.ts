/**
 * `npm run bench -- soak` (issue 16 item 6): BENCH_SOAK_CONTACTS (default 1,000,000) contacts sent
 * the trigger event of a three-step conversation (a delay of PT0S, assign a code saved with its
 * expiration date, the message showing it), on PostgreSQL in a fresh schema, with a `serve` taking
 * the events (SERVE_WORKERS=false; POST /v1/events/batch, 1,000 per call, 4 at a time) and 2
 * `worker` processes, until the last mail is in the outbox.
 *
 * Prints: the throughput of the first and the last 10 % of the runs finished (by the runs'
 * `ended_at`; goal: the last within 20 % of the first, ratio ≥ 0.8) and of every tenth between;
 * each worker's RSS (VmRSS, sampled every second) at start, peak and end; the dead tuples of the
 * hot tables and the sizes of their indexes at the end (bloat). The schema is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ApiClient } from '../src/cli/api-client.ts';
import { startServer, type BenchServer } from './server.ts';
import {
  PG_URL,
  assignStep,
  couponMessage,
  dropSchemas,
  engineEnv,
  fmt,
  publishConversation,
  rate,
  rssMb,
  sendEvents,
  startWorker,
  waitForRunsDone,
  type Worker,
} from './engine-kit.ts';

const CONTACTS = Number(process.env.BENCH_SOAK_CONTACTS ?? 1_000_000);
const WORKERS = 2;
/** The last tenth's throughput at least this share of the first's: "within 20 %". */
const GOAL = 0.8;
const HOT_TABLES = ['enrollments', 'step_runs', 'outbox', 'codes', 'assignments', 'contacts', 'events', 'pool_code_counts'];

/**
 * VmRSS of each process every `everyMs`: start (the sample taken when `warm()` is called: start-up
 * over, the first tenth of the runs done), peak (the highest sample over the whole run) and end.
 */
function sampleRss(pids: number[], everyMs = 1000) {
  const seen = pids.map(() => ({ start: null as number | null, peak: 0, end: null as number | null }));
  const take = (start = false) =>
    pids.forEach((pid, i) => {
      const mb = rssMb(pid);
      if (mb === null) return;
      const s = seen[i]!;
      if (start) s.start = mb;
      s.peak = Math.max(s.peak, mb);
      s.end = mb;
    });
  const timer = setInterval(take, everyMs);
  return {
    warm: () => take(true),
    stop() {
      take();
      clearInterval(timer);
      return seen;
    },
  };
}

/**
 * Runs finished per tenth of them: the tenth's size over the time from the end of the tenth
 * before (for the first: from `startedAt`, the first event sent) to its last run's `ended_at`.
 */
async function tenths(db: pg.Client, conversationId: string, startedAt: number) {
  const q = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
  const { rows } = await db.query<{ n: string; at: Date[] }>(
    `select count(*) as n, percentile_disc($2::float8[]) within group (order by ended_at) as at
     from enrollments where conversation_id = $1 and status = 'completed'`,
    [conversationId, q],
  );
  const n = Number(rows[0]!.n);
  const at = [startedAt, ...rows[0]!.at.map((d) => new Date(d).getTime())];
  return { n, rates: at.slice(1).map((t, i) => rate(n / 10, Math.max(1, t - at[i]!))) };
}

async function bloat(db: pg.Client, schema: string) {
  const tables = await db.query<{ relname: string; n_live_tup: string; n_dead_tup: string; autovacuum_count: string; size: string }>(
    `select relname, n_live_tup, n_dead_tup, autovacuum_count, pg_table_size(relid) as size
     from pg_stat_user_tables where schemaname = $1 and relname = any($2::text[]) order by n_dead_tup desc`,
    [schema, HOT_TABLES],
  );
  const indexes = await db.query<{ relname: string; indexrelname: string; size: string }>(
    `select relname, indexrelname, pg_relation_size(indexrelid) as size
     from pg_stat_user_indexes where schemaname = $1 and relname = any($2::text[]) order by pg_relation_size(indexrelid) desc`,
    [schema, HOT_TABLES],
  );
  const mb = (b: string) => `${(Number(b) / 1024 / 1024).toFixed(1)} MB`;
  console.log('hot tables at the end (pg_stat_user_tables): live / dead tuples, autovacuums, table size');
  for (const t of tables.rows) {
    const dead = Number(t.n_dead_tup);
    const live = Number(t.n_live_tup);
    console.log(
      `  ${t.relname.padEnd(18)} ${fmt(live).padStart(11)} live ${fmt(dead).padStart(11)} dead (${live ? ((100 * dead) / live).toFixed(0) : '-'} %)  ${t.autovacuum_count} autovacuums  ${mb(t.size)}`,
    );
  }
  console.log('their indexes (pg_relation_size):');
  for (const i of indexes.rows) console.log(`  ${`${i.relname}.${i.indexrelname}`.padEnd(52)} ${mb(i.size).padStart(10)}`);
}

export async function run() {
  console.log(
    `${fmt(CONTACTS)} contacts through delay PT0S, assign a code (saved with its expiration date), the message showing it; PostgreSQL, serve + ${WORKERS} workers`,
  );
  const schema = `bench_soak_${randomBytes(4).toString('hex')}`;
  const env = { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, ...engineEnv };
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-soak-'));
  let server: BenchServer | undefined;
  const workers: Worker[] = [];
  const db = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  let connected = false;
  try {
    server = await startServer({ ...env, SERVE_WORKERS: 'false' });
    const api = new ApiClient(server.url, server.token);
    const m = await couponMessage(api);
    const target = await publishConversation(
      api,
      'Soak: delay, assign, message',
      [{ type: 'delay', name: 'Right away', duration: 'PT0S' }, await assignStep(api, dir, m, 'Assign Coupon Code 10%', CONTACTS)],
      m.messageId,
    );
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker(env));
    const rss = sampleRss([...workers.map((w) => w.child.pid!), server.pid]);
    const t0 = performance.now();
    const startedAt = Date.now();
    await sendEvents(api, randomBytes(3).toString('hex'), CONTACTS);
    const intakeMs = performance.now() - t0;
    let warm = false;
    await waitForRunsDone(api, schema, target, CONTACTS, (done) => {
      if (!warm && done >= CONTACTS / 10) rss.warm();
      warm ||= done >= CONTACTS / 10;
    });
    const totalMs = performance.now() - t0;
    const memory = rss.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    server = undefined;
    console.log(
      `end to end: ${fmt(rate(CONTACTS, totalMs))} contacts/s (${(totalMs / 1000).toFixed(1)} s; events taken in ${(intakeMs / 1000).toFixed(1)} s)`,
    );
    await db.connect();
    connected = true;
    const { n, rates } = await tenths(db, target.conversationId, startedAt);
    const ratio = rates[9]! / rates[0]!;
    console.log(
      `runs finished: ${fmt(n)}; first 10 %: ${fmt(rates[0]!)} runs/s, last 10 %: ${fmt(rates[9]!)} runs/s; last / first = ${ratio.toFixed(2)} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'not met'})`,
    );
    console.log(`each tenth (runs/s): ${rates.map(fmt).join(', ')}`);
    memory.forEach((s, i) =>
      console.log(
        `${i < WORKERS ? `worker ${i + 1}` : 'serve   '} RSS: start (10 % of the runs done) ${s.start} MB, peak ${s.peak} MB, end ${s.end} MB`,
      ),
    );
    // The processes have exited, so their backends' statistics are flushed; give the collector a moment.
    await new Promise((r) => setTimeout(r, 1500));
    await bloat(db, schema);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server?.stop();
    if (connected) await db.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas([schema]);
  }
}

/**
 * `npm run bench -- intake`: event intake alone. BENCH_INTAKE_EVENTS (default 100,000) trigger
 * events for new contacts sent to POST /v1/events/batch (1,000 per call, 4 calls at a time) of a
 * `serve` on PostgreSQL with SERVE_WORKERS=false: each event upserts its contact, is recorded,
 * and enrolls its contact into a published conversation (nothing runs the engine). The baseline,
 * in the same run and schema: the same writes (contacts, events, enrollments) set-wise in
 * 1,000-row transactions from 4 connections, with no application around them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApiClient } from '../src/cli/api-client.ts';
import { startServer, type BenchServer } from './server.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.BENCH_INTAKE_EVENTS ?? 100_000);
const BATCH = 1000;
const CONCURRENT = 4;
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function inBatches(send: (start: number, size: number) => Promise<void>): Promise<{ ms: number; p99: number }> {
  const t0 = performance.now();
  const latencies: number[] = [];
  let next = 0;
  const sender = async () => {
    for (;;) {
      const start = next;
      next += BATCH;
      if (start >= EVENTS) return;
      const t = performance.now();
      await send(start, Math.min(BATCH, EVENTS - start));
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT }, sender));
  latencies.sort((a, b) => a - b);
  return { ms: performance.now() - t0, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

async function prepare(api: ApiClient): Promise<string> {
  const message = await api.request<{ id: string }>('POST', '/v1/messages', {
    name: 'Welcome',
    fromName: 'Shop',
    fromEmail: 'shop@example.com',
    subject: 'Hello {{ contact.email }}',
    html: '<p>Hello</p>',
    text: null,
  });
  const conv = await api.request<{ id: string; steps: { id: string }[] }>('POST', '/v1/conversations', {
    name: `intake-${randomBytes(3).toString('hex')}`,
    trigger: { event: 'signed_up' },
    steps: [{ type: 'message', name: 'Welcome', messageId: message.id }],
  });
  await api.request('POST', `/v1/conversations/${conv.id}/steps/${conv.steps[0]!.id}/commit`);
  await api.request('POST', `/v1/conversations/${conv.id}/publish`);
  return conv.id;
}

/** The same writes as the intake, set-wise, without the application. */
async function baseline(schema: string, conversationId: string, run: string) {
  const pool = new pg.Pool({ connectionString: PG_URL, max: CONCURRENT, options: `-c search_path=${schema}` });
  try {
    const account = (await pool.query<{ id: string }>('select account_id as id from conversations where id = $1', [conversationId]))
      .rows[0]!.id;
    const version = (
      await pool.query<{ v: number }>('select max(version) as v from conversation_versions where conversation_id = $1', [conversationId])
    ).rows[0]!.v;
    return await inBatches(async (start, size) => {
      const rows = Array.from({ length: size }, (_, i) => ({
        id: `bc${run}${start + i}`,
        email: `base${start + i}-${run}@example.com`,
        event: `be${run}${start + i}`,
        enrollment: `bn${run}${start + i}`,
      }));
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(
          `insert into contacts (account_id, id, email) select $1, x.id, x.email from jsonb_to_recordset($2::jsonb) as x(id text, email text)
           on conflict (account_id, lower(email)) do nothing`,
          [account, JSON.stringify(rows)],
        );
        await client.query(
          `insert into events (account_id, id, contact_id, type, properties, occurred_at, created_at)
           select $1, x.event, x.id, 'signed_up', '{}', now(), now() from jsonb_to_recordset($2::jsonb) as x(id text, event text)`,
          [account, JSON.stringify(rows)],
        );
        await client.query(
          `insert into enrollments (account_id, id, conversation_id, version, contact_id, next_due_at, created_at, updated_at)
           select $1, x.enrollment, $3, $4, x.id, now(), now(), now() from jsonb_to_recordset($2::jsonb) as x(id text, enrollment text)
           on conflict do nothing`,
          [account, JSON.stringify(rows), conversationId, version],
        );
        await client.query('commit');
      } finally {
        client.release();
      }
    });
  } finally {
    await pool.end();
  }
}

export async function run() {
  const schema = `bench_intake_${randomBytes(4).toString('hex')}`;
  const run = randomBytes(3).toString('hex');
  let server: BenchServer | undefined;
  try {
    server = await startServer({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, SERVE_WORKERS: 'false', POOL_CHECK_INTERVAL_SECONDS: '0' });
    const api = new ApiClient(server.url, server.token);
    const conversationId = await prepare(api);
    const http = await inBatches(async (start, size) => {
      const events = Array.from({ length: size }, (_, i) => ({ type: 'signed_up', email: `c${start + i}-${run}@example.com` }));
      await api.request('POST', '/v1/events/batch', { events });
    });
    const base = await baseline(schema, conversationId, run);
    const h = rate(EVENTS, http.ms);
    const b = rate(EVENTS, base.ms);
    console.log(
      `PostgreSQL intake via HTTP: ${h.toLocaleString('en-US')} events/s (${(http.ms / 1000).toFixed(1)} s for ${EVENTS.toLocaleString('en-US')}, p99 ${http.p99.toFixed(0)} ms per batch of ${BATCH}; goal >= 30,000/s)`,
    );
    console.log(
      `PostgreSQL baseline (contacts, events, enrollments set-wise, 1,000-row transactions): ${b.toLocaleString('en-US')} events/s, p99 ${base.p99.toFixed(0)} ms; ratio ${(h / b).toFixed(2)}; server peak RSS ${server.peakRssMb()} MB`,
    );
  } finally {
    await server?.stop();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

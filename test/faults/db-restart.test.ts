import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { openDatabase } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { migrations } from '../../src/migrations/index.ts';
import type { AppDatabase, DB } from '../../src/schema.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { postgresBin, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts';
import { spawnCli, startServer, type RunningServer } from '../foundation/processes.ts';
import { api } from '../conductor/setup.ts';

const ENROLLMENTS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PostgreSQL restarted (three times) and then stopped for 20 s under a `serve` and a `worker` that
 * carry 20,000 conversation runs and a stream of HTTP assignments: both processes live through it,
 * requests during the outage get 503 `database_unavailable` (never 500), the work resumes by
 * itself, and nothing is lost or done twice.
 */
const suite = postgresBin() ? describe : describe.skip;
suite('PostgreSQL restarts under load', () => {
  let cluster: PgCluster;
  let database: AppDatabase;
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let server: RunningServer | undefined;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    cluster = await startPgCluster();
    database = await openDatabase<DB>({ databaseUrl: cluster.url, dataDir: '', schema: 'public', poolSize: 4 });
    await migrate(database.db as never, migrations, 'public');
    app = await testApp(database);
    t = await newTenant(app);
  }, 120_000);
  afterAll(async () => {
    server?.kill();
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await app?.http.close();
    await database?.close();
    await cluster?.destroy();
  });

  const count = async (q: ReturnType<typeof sql>) => Number(((await q.execute(database.db)).rows[0] as { n: string }).n);
  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

  it('serve and worker live through 3 restarts and a 20 s outage; every run once, every request 2xx or 503', async () => {
    // The conversation: assign a code, mail it; ENROLLMENTS runs due now.
    const a = api(app, t);
    const pool = await a.pool();
    const codes = Array.from({ length: ENROLLMENTS + 10 }, (_, i) => `R${String(i).padStart(7, '0')}`).join('\n') + '\n';
    await a.upload(pool.id, codes, { expiration: 'none' });
    const { code } = await a.couponFields();
    const message = await a.message(`<p>Your code: ${code.snippet}</p>`);
    const conv = await a.conversation({
      trigger: { event: 'never_sent' },
      steps: [
        {
          type: 'action',
          name: 'Assign',
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(conv);
    await a.publish(conv.id);
    await sql`insert into contacts (account_id, id, email)
      select ${t.accountId}, 'c' || i, 'r' || i || '@example.com' from generate_series(1, ${ENROLLMENTS}) i`.execute(database.db);
    await sql`insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
      select ${t.accountId}, 'e' || lpad(i::text, 7, '0'), ${conv.id}, 1, 'c' || i, 'active', 0, now() - interval '1 minute', now(), now()
      from generate_series(1, ${ENROLLMENTS}) i`.execute(database.db);
    // A second pool for the HTTP assignments.
    const httpPool = await a.pool();
    await a.upload(httpPool.id, Array.from({ length: 3000 }, (_, i) => `H${String(i).padStart(6, '0')}`).join('\n') + '\n', {
      expiration: 'none',
    });

    const env = {
      DATABASE_URL: cluster.url,
      CONDUCTOR_POLL_INTERVAL_MS: '50',
      POOL_CHECK_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'warn',
      DATABASE_POOL_SIZE: '4',
    };
    server = await startServer(env);
    worker = spawnCli(['worker'], env);
    let workerErr = '';
    worker.stderr?.setEncoding('utf8').on('data', (d: string) => (workerErr += d));

    // The stream: contacts h1, h2, … assigned over HTTP, each retried with its key until it answers.
    const statuses = new Map<number, number>();
    let fetchFailures = 0;
    let next = 0;
    let streaming = true;
    const done: number[] = [];
    const assignOne = async (i: number) => {
      for (;;) {
        const res = await fetch(`${server!.url}/v1/pools/${httpPool.id}/assignments`, {
          method: 'POST',
          headers: { ...t.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `h${i}@example.com`, idempotencyKey: `h-${i}` }),
        }).catch(() => undefined);
        if (!res) {
          fetchFailures++;
          await sleep(200);
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const body = await res.text();
        if (res.status === 503) expect(JSON.parse(body).error.code).toBe('database_unavailable');
        if (res.status === 200 || res.status === 201) return;
        if (res.status !== 503) throw new Error(`assignment ${i}: ${res.status} ${body}`);
        await sleep(100);
      }
    };
    const streamer = async () => {
      while (streaming && next < 2500) {
        const i = ++next;
        await assignOne(i);
        done.push(i);
        await sleep(20);
      }
    };
    const streams = [streamer(), streamer()];

    const completed = () => count(sql`select count(*) as n from enrollments where conversation_id = ${conv.id} and status = 'completed'`);
    const waitFor = async (what: string, ok: () => Promise<boolean>, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await ok().catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
      }
    };

    // Three restarts while runs are in flight (each once more work is done).
    for (const atLeast of [1500, 4000, 7000]) {
      await waitFor(`${atLeast} runs`, async () => (await completed()) >= atLeast, 120_000);
      await cluster.restart();
      expect(alive(worker), workerErr).toBe(true);
      expect(server.output().stderr).not.toMatch(/Unhandled|uncaught/i);
    }
    // A 20 s outage: the processes stay up, /health says 503 without naming host or driver.
    await waitFor('10000 runs', async () => (await completed()) >= 10_000, 120_000);
    await cluster.stop();
    const outageStart = Date.now();
    const healths: { status: number; body: string }[] = [];
    while (Date.now() - outageStart < 20_000) {
      const res = await fetch(`${server.url}/health`);
      healths.push({ status: res.status, body: await res.text() });
      await sleep(2_000);
    }
    expect(alive(worker), workerErr).toBe(true);
    await cluster.start();
    expect(healths.length).toBeGreaterThan(3);
    for (const h of healths) {
      expect(h.status).toBe(503);
      expect(JSON.parse(h.body)).toMatchObject({ status: 'unavailable', error: { code: 'database_unavailable' } });
      expect(h.body).not.toMatch(new RegExp(`${cluster.port}|127\\.0\\.0\\.1|ECONNREFUSED|connect`, 'i'));
    }

    // Everything resumes by itself.
    await waitFor('all runs', async () => (await completed()) === ENROLLMENTS, 240_000);
    streaming = false;
    await Promise.all(streams);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(alive(worker), workerErr).toBe(true);

    // Requests met the outage: some got 503, none got 500, the server never went away.
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(fetchFailures).toBe(0);

    // The conversation: each contact exactly one code and one mail showing it.
    const poolKey = (await database.db.selectFrom('pools').select('key').where('id', '=', pool.id).executeTakeFirstOrThrow()).key;
    expect(await count(sql`select count(*) as n from assignments where pool_key = ${poolKey}`)).toBe(ENROLLMENTS);
    expect(await count(sql`select count(distinct contact_id) as n from assignments where pool_key = ${poolKey}`)).toBe(ENROLLMENTS);
    expect(await count(sql`select count(distinct code) as n from assignments where pool_key = ${poolKey}`)).toBe(ENROLLMENTS);
    expect(await count(sql`select count(*) as n from codes where pool_key = ${poolKey} and assigned_at is not null`)).toBe(ENROLLMENTS);
    expect(await count(sql`select count(*) as n from outbox where kind = 'message'`)).toBe(ENROLLMENTS);
    expect(await count(sql`select count(distinct to_email) as n from outbox where kind = 'message'`)).toBe(ENROLLMENTS);
    expect(
      await count(sql`select count(*) as n from outbox o
        join contacts c on c.account_id = o.account_id and lower(c.email) = lower(o.to_email)
        join assignments a on a.pool_key = ${poolKey} and a.contact_id = c.id
        where o.kind = 'message' and starts_with(o.html, '<p>Your code: ' || a.code || '</p>')`),
    ).toBe(ENROLLMENTS);
    expect(await count(sql`select count(*) as n from step_runs where conversation_id = ${conv.id}`)).toBe(2 * ENROLLMENTS);
    const convPool = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}`, headers: t.auth });
    expect(convPool.json().counts).toMatchObject({ assigned: ENROLLMENTS, available: 10 });

    // The HTTP stream: each contact one code, no code twice, the counts equal count(*).
    const httpKey = (await database.db.selectFrom('pools').select('key').where('id', '=', httpPool.id).executeTakeFirstOrThrow()).key;
    const n = done.length;
    expect(n).toBeGreaterThan(0);
    expect(await count(sql`select count(*) as n from assignments where pool_key = ${httpKey}`)).toBe(n);
    expect(await count(sql`select count(distinct contact_id) as n from assignments where pool_key = ${httpKey}`)).toBe(n);
    expect(await count(sql`select count(distinct code) as n from assignments where pool_key = ${httpKey}`)).toBe(n);
    expect(await count(sql`select count(*) as n from codes where pool_key = ${httpKey} and assigned_at is not null`)).toBe(n);
    const streamPool = await app.http.inject({ method: 'GET', url: `/v1/pools/${httpPool.id}`, headers: t.auth });
    expect(streamPool.json().counts).toMatchObject({ assigned: n, available: 3000 - n });

    const exit = await server.stop();
    expect(exit.code).toBe(0);
    const workerExit = new Promise<number | null>((resolve) => worker!.once('close', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await workerExit).toBe(0);
  }, 600_000);

  it('the SMTP sender lives through 3 restarts: every mail delivered exactly once, all marked sent', async () => {
    const MAILS = 1500;
    const received = new Map<string, number>();
    let total = 0;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        stream.on('data', () => {});
        stream.on('end', () => {
          for (const r of session.envelope.rcptTo) received.set(r.address, (received.get(r.address) ?? 0) + 1);
          total++;
          setTimeout(() => callback(null), 2);
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
    try {
      await sql`insert into outbox (account_id, id, merchant_id, kind, to_email, from_name, from_email, subject, html, text, message_id, status, transport, attempts, next_attempt_at, created_at)
        select ${t.accountId}, 'm' || i, null, 'notification', 's' || i || '@example.com', 'Shop', 'shop@example.com', 'Hello', '<p>hi</p>', null,
               '<m' || i || '@couponflow.localhost>', 'queued', 'smtp', 0, now() - interval '1 second', now()
        from generate_series(1, ${MAILS}) i`.execute(database.db);
      const sender = spawnCli(['worker'], {
        DATABASE_URL: cluster.url,
        SMTP_URL: smtpUrl,
        MAIL_SEND_INTERVAL_SECONDS: '1',
        CONDUCTOR_POLL_INTERVAL_MS: '0',
        POOL_CHECK_INTERVAL_SECONDS: '0',
        LOG_LEVEL: 'warn',
      });
      let senderErr = '';
      sender.stderr?.setEncoding('utf8').on('data', (d: string) => (senderErr += d));
      try {
        const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number) => {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            if (
              await Promise.resolve()
                .then(ok)
                .catch(() => false)
            )
              return;
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${total} received)\n${senderErr}`);
            await sleep(50);
          }
        };
        for (const atLeast of [200, 600, 1000]) {
          await waitFor(`${atLeast} mails`, () => total >= atLeast, 120_000);
          await cluster.restart();
          expect(alive(sender), senderErr).toBe(true);
        }
        await waitFor(
          'every mail marked sent',
          async () => (await count(sql`select count(*) as n from outbox where kind = 'notification' and status = 'sent'`)) === MAILS,
          120_000,
        );
        expect(alive(sender), senderErr).toBe(true);
        expect(received.size).toBe(MAILS);
        expect([...received.values()].filter((n) => n !== 1)).toEqual([]);
        expect(total).toBe(MAILS);
      } finally {
        const closed = new Promise((resolve) => sender.once('close', resolve));
        sender.kill('SIGTERM');
        await closed;
      }
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  }, 300_000);
});

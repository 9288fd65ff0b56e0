import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { api } from './setup.ts';
import { useWorkerProcesses } from './worker-processes.ts';

/**
 * The engine in several real `couponflow worker` processes on one PostgreSQL: every run executed
 * once, whatever the concurrency, and a worker killed mid-batch loses nothing and repeats nothing.
 */
describePostgres('conductor workers', (ctx) => {
  const { app, t, worker, stop, completed, waitForAll, killMidBatch } = useWorkerProcesses(ctx);

  /** A live conversation (assign a code, then mail it) and `runs` due runs of new contacts. */
  async function scenario(runs: number) {
    const a = api(app, t);
    const pool = await a.pool();
    const codes = Array.from({ length: runs + 10 }, (_, i) => `W${String(i).padStart(7, '0')}`).join('\n') + '\n';
    await a.upload(pool.id, codes, { expiration: 'none' });
    const { code } = await a.couponFields();
    const message = await a.message(`<p>Your code: ${code.snippet}</p>`);
    const conv = await a.conversation({
      trigger: { event: 'never_sent' },
      steps: [
        {
          type: 'action',
          name: 'Assign Coupon Code 10%',
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(conv);
    await a.publish(conv.id);
    const tag = conv.id.slice(-8);
    // Seeding in SQL: the events endpoint is tested elsewhere; here the engine is under test.
    await sql`
      insert into contacts (account_id, id, email)
      select ${t.accountId}, ${tag} || '-c' || i, 'w' || i || '-' || ${tag} || '@example.com' from generate_series(1, ${runs}) i`.execute(
      ctx.database.db,
    );
    await sql`
      insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
      select ${t.accountId}, ${tag} || '-e' || lpad(i::text, 7, '0'), ${conv.id}, 1, ${tag} || '-c' || i, 'active', 0, now() - interval '1 minute', now(), now()
      from generate_series(1, ${runs}) i`.execute(ctx.database.db);
    return { pool, conv, runs };
  }

  /** Each contact exactly one code and one mail showing it; the pool's counts agree. */
  async function expectExactlyOnce(s: Awaited<ReturnType<typeof scenario>>) {
    const db = ctx.database.db;
    const one = async (q: ReturnType<typeof sql>) => Number(((await q.execute(db)).rows[0] as { n: string }).n);
    const poolKey = (await db.selectFrom('pools').select('key').where('id', '=', s.pool.id).executeTakeFirstOrThrow()).key;
    expect(await one(sql`select count(*) as n from assignments where pool_key = ${poolKey}`)).toBe(s.runs);
    expect(await one(sql`select count(distinct contact_id) as n from assignments where pool_key = ${poolKey}`)).toBe(s.runs);
    expect(await one(sql`select count(distinct code) as n from assignments where pool_key = ${poolKey} and source = 'unique'`)).toBe(
      s.runs,
    );
    expect(await one(sql`select count(*) as n from codes where pool_key = ${poolKey} and assigned_at is not null`)).toBe(s.runs);
    const tag = s.conv.id.slice(-8);
    const mails = sql`select count(*) as n from outbox where kind = 'message' and to_email like ${`%-${tag}@example.com`}`;
    expect(await one(mails)).toBe(s.runs);
    expect(
      await one(sql`select count(distinct to_email) as n from outbox where kind = 'message' and to_email like ${`%-${tag}@example.com`}`),
    ).toBe(s.runs);
    // Every mail shows the code its contact was given.
    expect(
      await one(sql`
        select count(*) as n from outbox o
        join contacts c on c.account_id = o.account_id and lower(c.email) = lower(o.to_email)
        join assignments a on a.pool_key = ${poolKey} and a.contact_id = c.id
        where o.kind = 'message' and starts_with(o.html, '<p>Your code: ' || a.code || '</p>')`),
    ).toBe(s.runs);
    expect(await one(sql`select count(*) as n from step_runs where conversation_id = ${s.conv.id}`)).toBe(2 * s.runs);
    const pool = await app.http.inject({ method: 'GET', url: `/v1/pools/${s.pool.id}`, headers: t.auth });
    expect(pool.json().counts).toMatchObject({ assigned: s.runs, available: 10 });
  }

  it('3 worker processes over 10,000 runs: each contact exactly one code and one email', async () => {
    const s = await scenario(10_000);
    const workers = [worker(), worker(), worker()];
    await waitForAll(s.conv.id, s.runs, 150_000);
    await Promise.all(workers.map(stop));
    await expectExactlyOnce(s);
  }, 240_000);

  it('a worker killed with SIGKILL in the middle of a 20,000-run batch, then restarted: all done, nothing twice, nothing lost', async () => {
    const s = await scenario(20_000);
    const env = await killMidBatch(s.conv.id.slice(-8));
    // Killed mid-batch: nothing of it was committed.
    expect(await completed(s.conv.id)).toBe(0);
    const second = worker(env);
    await waitForAll(s.conv.id, s.runs, 150_000);
    await stop(second);
    await expectExactlyOnce(s);
  }, 240_000);
});

import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { api } from './setup.ts';
import { useWorkerProcesses } from './worker-processes.ts';

/**
 * Branches and waits under real concurrency: `couponflow worker` processes on one PostgreSQL run a
 * split (gold buyers from the 15% pool, the others from the 10% pool, then one mail showing the
 * code); each contact gets exactly one code of its branch's pool and one mail, whatever the number
 * of workers, and a worker killed mid-batch inside the branches repeats nothing.
 */
describePostgres('conductor workers through a split', (ctx) => {
  const { app, t, worker, stop, completed, waitForAll, killMidBatch } = useWorkerProcesses(ctx);

  const one = async (q: ReturnType<typeof sql>) => Number(((await q.execute(ctx.database.db)).rows[0] as { n: string }).n);

  /**
   * A live conversation split on the trigger's `tier` and `runs` due runs of new contacts, every
   * second one gold; `at` is where the runs stand: before the split, or already in their branch.
   */
  async function scenario(runs: number, at: 'split' | 'branch') {
    const a = api(app, t);
    const p15 = await a.pool();
    const p10 = await a.pool();
    const codes = (prefix: string) =>
      Array.from({ length: runs / 2 + 10 }, (_, i) => `${prefix}${String(i).padStart(7, '0')}`).join('\n') + '\n';
    await a.upload(p15.id, codes('G'), { expiration: 'none' });
    await a.upload(p10.id, codes('S'), { expiration: 'none' });
    const { code } = await a.couponFields();
    const message = await a.message(`<p>Your code: ${code.snippet}</p>`);
    const assign = (poolId: string, name: string) => ({
      type: 'action',
      name,
      action: { type: 'assignCoupon', merchantId: t.merchantId, poolId, saveCodeTo: code.id, whenNoCode: 'continue' },
    });
    const conv = await a.commit(
      await a.conversation({
        trigger: { event: 'never_sent' },
        steps: [
          {
            type: 'split',
            name: 'Tier',
            branches: [
              { name: 'Gold', condition: { event: 'properties.tier', op: 'eq', value: 'gold' }, steps: [assign(p15.id, 'Gold code')] },
            ],
            otherwise: { steps: [assign(p10.id, 'Plain code')] },
          },
          { type: 'message', name: 'Mail', messageId: message.id },
        ],
      }),
    );
    await a.publish(conv.id);
    const tag = conv.id.slice(-8);
    // Seeding in SQL: the events endpoint is tested elsewhere; here the engine is under test.
    await sql`
      insert into contacts (account_id, id, email)
      select ${t.accountId}, ${tag} || '-c' || i, 'w' || i || '-' || ${tag} || '@example.com' from generate_series(1, ${runs}) i`.execute(
      ctx.database.db,
    );
    const gold = at === 'split' ? 'steps.0' : 'steps.0.branches.0.steps.0';
    const plain = at === 'split' ? 'steps.0' : 'steps.0.otherwise.steps.0';
    await sql`
      insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, step_path, trigger_properties, next_due_at, created_at, updated_at)
      select ${t.accountId}, ${tag} || '-e' || lpad(i::text, 7, '0'), ${conv.id}, 1, ${tag} || '-c' || i, 'active', 0,
        case when i % 2 = 0 then ${gold} else ${plain} end,
        jsonb_build_object('tier', case when i % 2 = 0 then 'gold' else 'silver' end),
        now() - interval '1 minute', now(), now()
      from generate_series(1, ${runs}) i`.execute(ctx.database.db);
    return { p15, p10, conv, runs, tag, stepsPerRun: at === 'split' ? 3 : 2 };
  }

  /** Each contact exactly one code, from its branch's pool, and one mail showing it; every run completed. */
  async function expectExactlyOnce(s: Awaited<ReturnType<typeof scenario>>) {
    const db = ctx.database.db;
    const keyOf = async (id: string) => (await db.selectFrom('pools').select('key').where('id', '=', id).executeTakeFirstOrThrow()).key;
    const [gold, plain] = [await keyOf(s.p15.id), await keyOf(s.p10.id)];
    const both = sql`select * from assignments where pool_key in (${gold}, ${plain})`;
    expect(await completed(s.conv.id)).toBe(s.runs);
    expect(await one(sql`select count(*) as n from enrollments where conversation_id = ${s.conv.id} and status <> 'completed'`)).toBe(0);
    // One assignment per contact, no code handed twice.
    expect(await one(sql`select count(*) as n from (${both}) a`)).toBe(s.runs);
    expect(await one(sql`select count(distinct contact_id) as n from (${both}) a`)).toBe(s.runs);
    expect(await one(sql`select count(*) as n from (select pool_key, code from (${both}) a group by 1, 2 having count(*) > 1) d`)).toBe(0);
    expect(await one(sql`select count(*) as n from codes where pool_key in (${gold}, ${plain}) and assigned_at is not null`)).toBe(s.runs);
    // Each from its branch's pool: gold (even) contacts from the 15% pool, the others from the 10% pool.
    expect(
      await one(sql`
        select count(*) as n from enrollments e join assignments a on a.contact_id = e.contact_id and a.pool_key in (${gold}, ${plain})
        where e.conversation_id = ${s.conv.id} and a.pool_key = case when e.trigger_properties->>'tier' = 'gold' then ${gold}::bigint else ${plain}::bigint end`),
    ).toBe(s.runs);
    // One outbox row per contact, showing the contact's code.
    const like = `%-${s.tag}@example.com`;
    expect(await one(sql`select count(*) as n from outbox where kind = 'message' and to_email like ${like}`)).toBe(s.runs);
    expect(await one(sql`select count(distinct to_email) as n from outbox where kind = 'message' and to_email like ${like}`)).toBe(s.runs);
    expect(
      await one(sql`
        select count(*) as n from outbox o
        join contacts c on c.account_id = o.account_id and lower(c.email) = lower(o.to_email)
        join assignments a on a.pool_key in (${gold}, ${plain}) and a.contact_id = c.id
        where o.kind = 'message' and starts_with(o.html, '<p>Your code: ' || a.code || '</p>')`),
    ).toBe(s.runs);
    expect(await one(sql`select count(*) as n from step_runs where conversation_id = ${s.conv.id}`)).toBe(s.stepsPerRun * s.runs);
    for (const pool of [s.p15, s.p10]) {
      const res = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}`, headers: t.auth });
      expect(res.json().counts).toMatchObject({ assigned: s.runs / 2, available: 10 });
    }
  }

  it('3 worker processes over 20,000 runs through a split on a trigger property: each contact one code of its pool, one mail', async () => {
    const s = await scenario(20_000, 'split');
    const workers = [worker(), worker(), worker()];
    await waitForAll(s.conv.id, s.runs, 150_000);
    await Promise.all(workers.map(stop));
    await expectExactlyOnce(s);
  }, 240_000);

  it('a worker killed with SIGKILL mid-batch while 20,000 runs are inside the split’s branches, then restarted: no second code or mail', async () => {
    const s = await scenario(20_000, 'branch');
    const env = await killMidBatch(s.tag);
    // Killed mid-batch: nothing of it was committed, no code handed, no mail written.
    expect(await completed(s.conv.id)).toBe(0);
    expect(await one(sql`select count(*) as n from outbox where kind = 'message' and to_email like ${`%-${s.tag}@example.com`}`)).toBe(0);
    const second = worker(env);
    await waitForAll(s.conv.id, s.runs, 150_000);
    await stop(second);
    await expectExactlyOnce(s);
  }, 240_000);
});

import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from './setup.ts';

/**
 * A batch that fails inside a split's branch (after the branch handed the run its code, at the
 * branch's mail) rolls that run back and resumes it later: the run ends with one code and one
 * mail, the batch's other runs are not repeated. (A worker killed mid-batch inside the branches is
 * in branch-workers.test.ts, PostgreSQL only.)
 */
describeEachEngine('conductor failure inside a branch', (ctx) => {
  const { app, t } = useTenant(ctx, { config: { CONDUCTOR_MAX_ATTEMPTS: 3, CONDUCTOR_RETRY_SECONDS: 60 } });
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(app, t);
  });
  const count = async (q: ReturnType<typeof sql>) => Number(((await q.execute(ctx.database.db)).rows[0] as { n: string | number }).n);

  it('a run failing at the mail of a split branch, mid-batch: retried, it ends with one code and one mail; nothing else repeats', async () => {
    app.clock.set('2026-05-01T12:00:00Z');
    const p15 = await a.pool();
    const p10 = await a.pool();
    const codes = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`).join('\n') + '\n';
    await a.upload(p15.id, codes('G'), { expiration: 'none' });
    await a.upload(p10.id, codes('S'), { expiration: 'none' });
    const { group, code } = await a.couponFields();
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Nick', type: 'text' }, 201);
    // The real failure of failures.test.ts: a nick starting with an emoji renders a lone surrogate,
    // which PostgreSQL refuses when the mail is written to the outbox: the step throws for that contact.
    const message = await a.message(`<p>Hi {{ ${group.name}.Nick | split: "" | first }}, your code: ${code.snippet}</p>`);
    const branch = (poolId: string, name: string) => ({
      steps: [
        {
          type: 'action',
          name: `${name} code`,
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: `${name} mail`, messageId: message.id },
      ],
    });
    const conv = await a.commit(
      await a.conversation({
        trigger: { event: 'branch_poison' },
        steps: [
          {
            type: 'split',
            name: 'Tier',
            branches: [{ name: 'Gold', condition: { event: 'properties.tier', op: 'eq', value: 'gold' }, ...branch(p15.id, 'Gold') }],
            otherwise: branch(p10.id, 'Plain'),
          },
        ],
      }),
    );
    await a.publish(conv.id);

    const tag = conv.id.slice(-6);
    const good = Array.from({ length: 30 }, (_, i) => ({ email: `good${i}-${tag}@example.com`, tier: i % 2 ? 'gold' : 'silver' }));
    const bad = { email: `poison-${tag}@example.com`, tier: 'gold' };
    for (const g of good) await a.call('PUT', '/v1/contacts', { email: g.email, fields: { [group.name]: { Nick: 'Ann' } } }, 200);
    await a.call('PUT', '/v1/contacts', { email: bad.email, fields: { [group.name]: { Nick: '😀Bob' } } }, 200);
    const all = [...good.slice(0, 15), bad, ...good.slice(15)];
    const events = all.map((c) => ({ type: 'branch_poison', email: c.email, properties: { tier: c.tier } }));
    await a.call('POST', '/v1/events/batch', { events }, 202);

    expect(await app.services.engine.runDue(1000)).toMatchObject({ runs: 31, failed: 1 });
    const mails = () => count(sql`select count(*) as n from outbox where kind = 'message' and to_email like ${`%-${tag}@example.com`}`);
    expect(await mails()).toBe(30);
    expect(await a.mailsTo(bad.email)).toEqual([]);
    // The failed run's code went back with its rollback: 15 gold codes handed, not 16.
    expect((await a.call('GET', `/v1/pools/${p15.id}`, undefined, 200)).counts).toMatchObject({ assigned: 15 });
    expect((await a.call('GET', `/v1/pools/${p10.id}`, undefined, 200)).counts).toMatchObject({ assigned: 15 });
    const poisoned = (await a.enrollments(conv.id)).find((r: { status: string }) => r.status === 'active');
    expect(poisoned).toMatchObject({ attempts: 1, steps: [], nextDueAt: '2026-05-01T12:01:00.000Z' });
    expect(poisoned.lastError).toContain('step "Gold mail"');

    // Fixed before its retry: the run resumes, takes the branch again, gets one code and one mail.
    await a.call('PUT', '/v1/contacts', { email: bad.email, fields: { [group.name]: { Nick: 'Bob' } } }, 200);
    app.clock.set('2026-05-01T12:01:00Z');
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 1, steps: 3 });
    const [mail, ...more] = await a.mailsTo(bad.email);
    expect(more).toEqual([]);
    expect(mail!.html).toMatch(/^<p>Hi B, your code: G\d{3}<\/p>/);
    expect(await mails()).toBe(31);
    // Nothing repeated: one code per contact, none handed twice; every run completed once.
    const keys = await ctx.database.db.selectFrom('pools').select('key').where('id', 'in', [p15.id, p10.id]).execute();
    const both = sql`select * from assignments where pool_key in (${sql.join(keys.map((k) => k.key))})`;
    expect(await count(sql`select count(*) as n from (${both}) a`)).toBe(31);
    expect(await count(sql`select count(distinct contact_id) as n from (${both}) a`)).toBe(31);
    expect(await count(sql`select count(*) as n from (select pool_key, code from (${both}) a group by 1, 2 having count(*) > 1) d`)).toBe(
      0,
    );
    expect((await a.call('GET', `/v1/pools/${p15.id}`, undefined, 200)).counts).toMatchObject({ assigned: 16 });
    const runs = await a.enrollments(conv.id);
    expect(runs.map((r: { status: string }) => r.status)).toEqual(Array(31).fill('completed'));
    const resumed = runs.find((r: { id: string }) => r.id === poisoned.id);
    expect(resumed.steps.map((s: { path: string; outcome: string }) => `${s.path} ${s.outcome}`)).toEqual([
      'steps.0 branch',
      'steps.0.branches.0.steps.0 assigned',
      'steps.0.branches.0.steps.1 sent',
    ]);
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 0 });
  }, 120_000);
});

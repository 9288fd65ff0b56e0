import { runScript } from '../helpers/script.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, describePostgres, type EngineContext } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';

type App = Awaited<ReturnType<typeof testApp>>;

/**
 * A pool reminding 3 days ahead: five contacts get codes E-1..E-4 (expiring 2026-03-05, end of
 * day UTC) and F-1 (2026-04-30). E-2 is redeemed, E-3's assignment released (a bounce gave it
 * back). Exactly E-1 and E-4 get one coupon_expiring each, once the clock is 3 days before.
 */
async function fixture(app: App, t: TestTenant) {
  const a = api(app, t);
  const pool = await a.pool({ expiryReminderDays: 3 });
  expect(pool.expiryReminderDays).toBe(3);
  await a.upload(pool.id, 'E-1,2026-03-05\nE-2,2026-03-05\nE-3,2026-03-05\nE-4,2026-03-05\nF-1,2026-04-30\n', {
    expiration: 'file',
    delimiter: ',',
  });
  const given: Record<string, { id: string }> = {};
  for (const n of [1, 2, 3, 4, 5]) {
    const r = await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `e${n}@example.com`, idempotencyKey: `e${n}` }, 201);
    given[r.code] = { id: r.id };
  }
  expect(Object.keys(given).sort()).toEqual(['E-1', 'E-2', 'E-3', 'E-4', 'F-1']);
  await a.call('POST', `/v1/merchants/${t.merchantId}/redemptions`, { code: 'E-2', orderId: 'order-e2' }, 201);
  return { pool, given };
}

const reminders = async (ctx: EngineContext, accountId: string) =>
  ctx.database.db
    .selectFrom('events')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('type', '=', 'coupon_expiring')
    .orderBy('id')
    .execute();

describeEachEngine('expiry reminders', (ctx) => {
  let app: App;
  let t: TestTenant;
  let other: App;

  beforeAll(async () => {
    app = await testApp(ctx.database);
    other = await testApp(ctx.database);
    t = await newTenant(app);
  });
  afterAll(async () => {
    await other.http.close();
    await app.http.close();
  });

  it('one coupon_expiring per assigned, unredeemed, unreleased code, that many days before, once across two workers', async () => {
    const { pool, given } = await fixture(app, t);
    // E-3's mail bounced and gave the code back (what outbox/bounces.ts records).
    await ctx.database.db.updateTable('assignments').set({ released_at: app.clock.now() }).where('id', '=', given['E-3']!.id).execute();
    // 2026-03-01 12:00: more than 3 days before the end of 2026-03-05.
    expect(await app.services.reminders.runDue()).toEqual({ recorded: 0 });
    app.clock.set('2026-03-03T00:00:00Z');
    other.clock.set('2026-03-03T00:00:00Z');
    const [x, y] = await Promise.all([app.services.reminders.runDue(1), other.services.reminders.runDue(1)]);
    expect(x.recorded + y.recorded).toBe(2);
    const events = await reminders(ctx, t.accountId);
    expect(events.map((e) => (e.properties as { code: string }).code).sort()).toEqual(['E-1', 'E-4']);
    for (const e of events)
      expect(e.properties).toEqual({ poolId: pool.id, code: expect.any(String), expiresAt: '2026-03-05T23:59:59.999Z' });
    // Again, later: nothing new (once per assignment), and F-1 is still far.
    app.clock.set('2026-03-05T12:00:00Z');
    expect(await app.services.reminders.runDue()).toEqual({ recorded: 0 });
    expect(await reminders(ctx, t.accountId)).toHaveLength(2);
  });

  it('a reminder event starts the conversation it triggers', async () => {
    const a = api(app, t);
    const conversation = await a.conversation({
      trigger: { event: 'coupon_expiring' },
      steps: [{ type: 'delay', name: 'Wait', duration: 'P1D' }],
    });
    await a.publish(conversation.id);
    const pool = await a.pool({ expiryReminderDays: 1 });
    await a.upload(pool.id, 'G-1,2026-03-06\n', { expiration: 'file', delimiter: ',' });
    await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 'g@example.com', idempotencyKey: 'g1' }, 201);
    app.clock.set('2026-03-06T01:00:00Z');
    expect(await app.services.reminders.runDue()).toEqual({ recorded: 1 });
    expect(await a.enrollments(conversation.id)).toHaveLength(1);
  });
});

describePostgres('expiry reminders in two processes', (ctx) => {
  let app: App;
  let t: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
  });
  afterAll(() => app.http.close());

  const run = (now: string) => runScript<{ recorded: number }>('test/reminders/reminder-process.ts', { ...ctx.env, NOW: now });

  it('exactly one event per assignment between them', async () => {
    const a = api(app, t);
    const pool = await a.pool({ expiryReminderDays: 2 });
    const lines = Array.from({ length: 40 }, (_, i) => `P-${i},2026-03-04`).join('\n');
    await a.upload(pool.id, `${lines}\n`, { expiration: 'file', delimiter: ',' });
    for (let i = 0; i < 40; i++)
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `p${i}@example.com`, idempotencyKey: `p${i}` }, 201);
    const [x, y] = await Promise.all([run('2026-03-03T06:00:00Z'), run('2026-03-03T06:00:00Z')]);
    expect(x.recorded + y.recorded).toBe(40);
    const events = await reminders(ctx, t.accountId);
    expect(events).toHaveLength(40);
    expect(new Set(events.map((e) => (e.properties as { code: string }).code)).size).toBe(40);
    expect(new Set(events.map((e) => e.contact_id)).size).toBe(40);
  }, 120_000);
});

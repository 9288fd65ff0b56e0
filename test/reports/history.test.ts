import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { testApp, type TestTenant } from '../helpers/app.ts';
import { redemptionApi } from '../redemptions/setup.ts';
import { startBackgroundJobs } from '../../src/jobs.ts';
import { tenantIn } from './setup.ts';

/**
 * The daily history, written by the periodic job with the test's clock, in an account whose zone
 * is America/New_York (UTC−5 in early March 2026): local midnight of March 3 is 05:00 UTC, so
 * events of the UTC evening of March 3 before 05:00 belong to March 2.
 */
describeEachEngine('pool report: the daily history recorded by the job', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let api: ReturnType<typeof redemptionApi>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await tenantIn(app, 'America/New_York');
    api = redemptionApi(app, t);
  });
  afterAll(() => app.http.close());

  const report = async (poolId: string) => (await api.call('GET', `/v1/pools/${poolId}/report`)).json();
  const rows = async (poolId: string) =>
    (
      await sql<{ day: string; assigned: string; redeemed: string; available: string; n: string }>`
        select h.day::text as day, h.assigned::text, h.redeemed::text, h.available::text
        from pool_daily_history h join pools p on p.key = h.pool_key where p.id = ${poolId} order by h.day`.execute(ctx.database.db)
    ).rows.map((r) => ({ date: r.day, assigned: Number(r.assigned), redeemed: Number(r.redeemed), available: Number(r.available) }));

  it('events before and after local midnight land on their local days; each day is written once; later changes do not rewrite it', async () => {
    app.clock.set('2026-03-02T15:00:00Z'); // 10:00 in New York, March 2
    const poolId = await api.pool({ type: 'unique' });
    await api.upload(
      poolId,
      Array.from({ length: 10 }, (_, i) => `N-${i}`),
    ); // never expire

    app.clock.set('2026-03-03T03:00:00Z'); // 22:00 March 2 in New York (already March 3 in UTC)
    const ann = await api.assign(poolId, 'ann@example.com');
    const bob = await api.assign(poolId, 'bob@example.com');
    app.clock.set('2026-03-03T04:30:00Z'); // 23:30 March 2
    expect((await api.redeem({ code: ann.code, orderId: 'o-ann' })).statusCode).toBe(201);
    app.clock.set('2026-03-03T04:40:00Z'); // 23:40 March 2: two codes valid through March 2 (New York)
    await api.upload(poolId, ['X-1,2026-03-02', 'X-2,2026-03-02'], 'file');

    app.clock.set('2026-03-03T05:30:00Z'); // 00:30 March 3: have expired
    const cat = await api.assign(poolId, 'cat@example.com');
    expect(cat.code).toMatch(/^N-/);
    app.clock.set('2026-03-03T05:45:00Z'); // 00:45 March 3
    const bobRedeemed = (await api.redeem({ code: bob.code, orderId: 'o-bob' })).json();

    app.clock.set('2026-03-03T06:00:00Z'); // 01:00 March 3: March 2 has ended, March 3 has not
    expect(await app.services.reports.recordDailyHistory()).toBe(1);
    // March 2 by hand: ann and bob assigned, ann's redeemed; at its end 10 − 2 = 8 codes were
    // available (cat's code, taken after midnight, still was; had just expired).
    expect(await rows(poolId)).toEqual([{ date: '2026-03-02', assigned: 2, redeemed: 1, available: 8 }]);
    expect(await app.services.reports.recordDailyHistory()).toBe(0); // a second run writes nothing

    app.clock.set('2026-03-04T04:55:00Z'); // 23:55 March 3
    await api.assign(poolId, 'eve@example.com');
    app.clock.set('2026-03-04T05:05:00Z'); // 00:05 March 4
    await api.assign(poolId, 'dan@example.com');
    app.clock.set('2026-03-04T05:10:00Z');
    expect(await app.services.reports.recordDailyHistory()).toBe(1);
    // March 3: cat and eve assigned, bob's redeemed; at its end 10 − 4 = 6 (dan's came after).
    expect((await rows(poolId))[1]).toEqual({ date: '2026-03-03', assigned: 2, redeemed: 1, available: 6 });

    // Recorded, not reconstructed: a later rollback of bob's order leaves March 3 as it was.
    expect((await api.rollback(bobRedeemed.id)).statusCode).toBe(200);
    const r = await report(poolId);
    expect(r.timeZone).toBe('America/New_York');
    expect(r.daily).toEqual([
      { date: '2026-03-02', assigned: 2, redeemed: 1, available: 8 },
      { date: '2026-03-03', assigned: 2, redeemed: 1, available: 6 },
    ]);
    expect(r.today).toEqual({ date: '2026-03-04', assigned: 1, redeemed: 0, available: 5 });

    // The job was away for three days: it fills the days it missed, each once.
    app.clock.set('2026-03-07T12:00:00Z');
    expect(await app.services.reports.recordDailyHistory()).toBe(3);
    expect((await rows(poolId)).slice(2)).toEqual([
      { date: '2026-03-04', assigned: 1, redeemed: 0, available: 5 },
      { date: '2026-03-05', assigned: 0, redeemed: 0, available: 5 },
      { date: '2026-03-06', assigned: 0, redeemed: 0, available: 5 },
    ]);
    expect(await app.services.reports.recordDailyHistory()).toBe(0);
  });

  it('the background job of serve/worker writes the rows on its own (Europe/Berlin: midnight is 23:00 UTC)', async () => {
    const berlin = await tenantIn(app, 'Europe/Berlin');
    const bapi = redemptionApi(app, berlin);
    app.clock.set('2026-03-09T10:00:00Z');
    const poolId = await bapi.pool({ type: 'unique' });
    await bapi.upload(poolId, ['B-1', 'B-2', 'B-3']);
    app.clock.set('2026-03-09T22:30:00Z'); // 23:30 March 9 in Berlin
    await bapi.assign(poolId, 'ann@example.com');
    app.clock.set('2026-03-09T23:30:00Z'); // 00:30 March 10 in Berlin, still March 9 in UTC
    await bapi.assign(poolId, 'bob@example.com');
    const stop = startBackgroundJobs(
      app.services,
      { poolCheckIntervalMs: 20, mailSendIntervalMs: 0, conductorPollIntervalMs: 0, conductorBatchSize: 10 },
      { error: () => {} },
    );
    try {
      await expect
        .poll(() => rows(poolId), { timeout: 20_000, interval: 50 })
        .toEqual([{ date: '2026-03-09', assigned: 1, redeemed: 0, available: 2 }]);
    } finally {
      await stop();
    }
    const r = (await bapi.call('GET', `/v1/pools/${poolId}/report`)).json();
    expect(r.today).toEqual({ date: '2026-03-10', assigned: 1, redeemed: 0, available: 1 });
  });
});

import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { redemptionApi } from '../redemptions/setup.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (hours: number) => new Date(T0 + hours * HOUR);

/** GET /v1/pools/{id}/report against fixtures counted by hand. */
describeEachEngine('pool report: figures', (ctx) => {
  const { app, t } = useTenant(ctx);
  let api: ReturnType<typeof redemptionApi>;
  beforeAll(async () => {
    api = redemptionApi(app, t);
  });

  const report = async (poolId: string) => {
    const res = await api.call('GET', `/v1/pools/${poolId}/report`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const redeemAt = async (hours: number, body: object) => {
    app.clock.set(at(hours));
    const res = await api.redeem(body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };

  it('a unique pool: assigned, redeemed, rate, median hours and revenue per currency (rolled back counts nowhere)', async () => {
    const poolId = await api.pool({ type: 'unique' });
    app.clock.set(at(0));
    expect(await report(poolId)).toMatchObject({
      assigned: 0,
      redeemed: 0,
      redemptionRate: null,
      medianHoursToRedeem: null,
      revenue: [],
      daily: [],
    });
    await api.upload(poolId, ['A', 'B', 'C', 'D', 'E', 'F']);
    const ann = await api.assign(poolId, 'ann@example.com'); // hour 0
    const bob = await api.assign(poolId, 'bob@example.com'); // hour 0
    app.clock.set(at(1));
    const cat = await api.assign(poolId, 'cat@example.com'); // hour 1
    const dan = await api.assign(poolId, 'dan@example.com'); // hour 1
    await redeemAt(2, { code: ann.code, orderId: 'o-1', amount: 10, currency: 'EUR' }); // 2 h
    await redeemAt(5, { code: bob.code, orderId: 'o-2', amount: 20.5, currency: 'eur' }); // 5 h
    await redeemAt(25, { code: cat.code, orderId: 'o-3', amount: 7.25, currency: 'USD' }); // 24 h
    const rolledBack = await redeemAt(11, { code: dan.code, orderId: 'o-4', amount: 100, currency: 'USD' }); // 10 h, then cancelled
    expect((await api.rollback(rolledBack.id)).statusCode).toBe(200);

    const r = await report(poolId);
    // By hand: 4 assigned; A, B, C redeemed (D rolled back); durations 2, 5, 24 h → median 5.
    expect(r).toMatchObject({ poolId, timeZone: 'UTC', assigned: 4, redeemed: 3, redemptionRate: 0.75, medianHoursToRedeem: 5 });
    expect(r.revenue).toEqual([
      { currency: 'EUR', amount: '30.50' },
      { currency: 'USD', amount: '7.25' },
    ]);
    // Today so far (the clock is back at hour 11, 2026-03-01 23:00 UTC): the four assignments, and
    // A and B (C is dated the next day, D is rolled back); two codes left.
    expect(r.today).toEqual({ date: '2026-03-01', assigned: 4, redeemed: 2, available: 2 });
    expect(r.forecast).toMatchObject({ ratePerDay: 4 / 7 });
  });

  it('a shared code: each order counts, the rate counts assignments redeemed at least once, walk-in orders add revenue', async () => {
    const poolId = await api.pool({ type: 'static' });
    app.clock.set(at(0));
    const put = await api.call('PUT', `/v1/pools/${poolId}/static-codes`, {
      rows: [{ code: 'SHARE', expiresOn: '2026-12-31', beginDistribution: '2026-02-01', endDistribution: '2026-06-30' }],
    });
    expect(put.statusCode, put.body).toBe(200);
    await api.assign(poolId, 'eve@example.com'); // hour 0
    app.clock.set(at(1));
    await api.assign(poolId, 'fay@example.com'); // hour 1, never redeems
    await redeemAt(3, { code: 'SHARE', orderId: 's-1', email: 'eve@example.com', amount: 5, currency: 'GBP' }); // 3 h
    await redeemAt(4, { code: 'SHARE', orderId: 's-2', email: 'eve@example.com' }); // 4 h, no amount
    await redeemAt(6, { code: 'SHARE', orderId: 's-3', email: 'gus@example.com', amount: 9.99, currency: 'GBP' }); // nobody's assignment

    const r = await report(poolId);
    // By hand: 2 assigned, 3 orders; only eve's assignment was redeemed → 1/2; eve's 3 h and 4 h → 3.5.
    expect(r).toMatchObject({ assigned: 2, redeemed: 3, redemptionRate: 0.5, medianHoursToRedeem: 3.5, forecast: null });
    expect(r.revenue).toEqual([{ currency: 'GBP', amount: '14.99' }]);
  });

  it('amounts are exact decimals: many cents add up without float error', async () => {
    const poolId = await api.pool({ type: 'unique' });
    app.clock.set(at(0));
    const codes = Array.from({ length: 10 }, (_, i) => `CENT-${i}`);
    await api.upload(poolId, codes);
    for (let i = 0; i < codes.length; i++) {
      const { code } = await api.assign(poolId, `cent-${i}@example.com`);
      expect((await api.redeem({ code, orderId: `c-${i}`, amount: 0.1, currency: 'CHF' })).statusCode).toBe(201);
    }
    const r = await report(poolId);
    expect(r.revenue).toEqual([{ currency: 'CHF', amount: '1.00' }]); // 0.1 added ten times in floats is 0.9999999999999999
    expect(r.medianHoursToRedeem).toBe(0);
    expect(r.redemptionRate).toBe(1);
  });

  it('another account’s pool is not found; bad input is a 4xx in the error format', async () => {
    const poolId = await api.pool({ type: 'unique' });
    const other = await newTenant(app);
    const res = await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/report`, headers: other.auth });
    expect(res.statusCode).toBe(404);
    const bad = await api.call('GET', `/v1/pools/${poolId}/report?days=0`);
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toEqual(expect.any(String));
  });
});

import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { redemptionApi } from './setup.ts';

describeEachEngine('checkout API: validate and redeem', (ctx) => {
  const { app, t } = useTenant(ctx);
  let api: ReturnType<typeof redemptionApi>;
  let uniquePool: string;
  beforeAll(async () => {
    api = redemptionApi(app, t);
    uniquePool = await api.pool({ type: 'unique' });
    await api.upload(uniquePool, ['U-1,2026-03-10', 'U-2,2026-04-30', 'U-3,2026-05-31', 'U-4,2026-06-30', 'U-5,2026-07-31'], 'file');
    await api.upload(uniquePool, ['NEVER']);
  });

  it('answers every validate reason, changing nothing', async () => {
    const ann = await api.assign(uniquePool, 'ann@example.com'); // U-1, soonest expiration
    expect(ann.code).toBe('U-1');
    await api.assign(uniquePool, 'bob@example.com'); // U-2

    expect((await api.validate({ code: 'NOPE' })).json()).toMatchObject({ valid: false, reason: 'code_not_found', poolId: null });
    expect((await api.validate({ code: 'NEVER' })).json()).toMatchObject({
      valid: false,
      reason: 'not_assigned',
      poolId: uniquePool,
      source: 'unique',
    });
    expect((await api.validate({ code: 'U-1', email: 'bob@example.com' })).json()).toMatchObject({
      valid: false,
      reason: 'assigned_to_other',
    });
    expect((await api.validate({ code: 'U-1', email: 'nobody@example.com' })).json()).toMatchObject({
      valid: false,
      reason: 'assigned_to_other',
    });
    const ok = (await api.validate({ code: 'U-1', email: 'ANN@example.com' })).json();
    expect(ok).toMatchObject({ valid: true, reason: null, poolId: uniquePool, source: 'unique', expiresAt: '2026-03-10T23:59:59.999Z' });
    expect(ok.contactId).toEqual(expect.any(String));

    app.clock.set('2026-03-11T00:00:00Z');
    expect((await api.validate({ code: 'U-1' })).json()).toMatchObject({ valid: false, reason: 'expired' });
    app.clock.set('2026-03-01T12:00:00Z');

    const r = await api.redeem({ code: 'U-2', orderId: 'order-b' });
    expect(r.statusCode, r.body).toBe(201);
    expect((await api.validate({ code: 'U-2' })).json()).toMatchObject({ valid: false, reason: 'already_redeemed' });

    await api.call('PATCH', `/v1/pools/${uniquePool}`, { active: false });
    expect((await api.validate({ code: 'U-1' })).json()).toMatchObject({ valid: false, reason: 'pool_inactive' });
    expect((await api.redeem({ code: 'U-1', orderId: 'x' })).json().error.code).toBe('pool_inactive');
    await api.call('PATCH', `/v1/pools/${uniquePool}`, { active: true });

    const stored = await sql<{ n: string }>`select count(*)::text as n from redemptions where account_id = ${t.accountId}`.execute(
      ctx.database.db,
    );
    expect(stored.rows[0]!.n).toBe('1'); // validate recorded nothing; the refused redeem neither
  });

  it('redeem → another order 409 → the same order 200 → rollback → redeemable again', async () => {
    const { code } = await api.assign(uniquePool, 'cat@example.com'); // U-3
    const first = await api.redeem({ code, orderId: 'o-1', email: 'cat@example.com', amount: 25.5, currency: 'eur' });
    expect(first.statusCode, first.body).toBe(201);
    const one = first.json();
    expect(one).toMatchObject({
      code,
      poolId: uniquePool,
      orderId: 'o-1',
      amount: '25.50',
      currency: 'EUR',
      source: 'api',
      rolledBackAt: null,
      kind: 'unique',
    });
    expect(one.contactId).toEqual(expect.any(String));
    expect(one.redeemedAt).toBe('2026-03-01T12:00:00.000Z');

    const other = await api.redeem({ code, orderId: 'o-2' });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('already_redeemed');

    const again = await api.redeem({ code, orderId: 'o-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(one);

    const rolled = await api.rollback(one.id);
    expect(rolled.statusCode).toBe(200);
    expect(rolled.json()).toMatchObject({ id: one.id, rolledBackAt: '2026-03-01T12:00:00.000Z' });
    expect((await api.rollback(one.id)).json()).toEqual(rolled.json()); // a second rollback changes nothing

    expect((await api.validate({ code })).json()).toMatchObject({ valid: true });
    const next = await api.redeem({ code, orderId: 'o-2' });
    expect(next.statusCode).toBe(201);
    expect(next.json().id).not.toBe(one.id);
    expect((await api.redeem({ code, orderId: 'o-1' })).statusCode).toBe(409); // its redemption was rolled back
  });

  it('counts redemptions by source and result in /metrics', async () => {
    const text = await app.metrics.registry.metrics(); // /metrics itself needs the installation admin token
    const value = (result: string) =>
      Number(new RegExp(`couponflow_redemptions_total\\{source="api",result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(value('recorded')).toBe(3); // U-2, U-3 for o-1, U-3 for o-2
    expect(value('repeated')).toBe(1);
    expect(value('already_redeemed')).toBe(2);
    expect(value('pool_inactive')).toBe(1);
    expect(text).toContain('couponflow_redemptions_total{source="api",result="rolled_back"} 1');
  });

  it('404 code_not_found for an unknown code, and a 404 for an unknown redemption', async () => {
    const res = await api.redeem({ code: 'NOPE', orderId: 'o' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('code_not_found');
    expect((await api.rollback('01900000-0000-7000-8000-000000000000')).statusCode).toBe(404);
  });

  it('shared codes: a default code and a static row are redeemed by many orders, each counted once', async () => {
    const withDefault = await api.pool({ type: 'unique', defaultCode: 'WELCOME', defaultCodeExpiresAt: '2026-12-31' });
    const statics = await api.pool({ type: 'static' });
    const put = await api.call('PUT', `/v1/pools/${statics}/static-codes`, {
      rows: [{ code: 'SPRING', expiresOn: '2026-04-30', beginDistribution: '2026-03-01', endDistribution: '2026-03-31' }],
    });
    expect(put.statusCode, put.body).toBe(200);
    for (const [code, pool] of [
      ['WELCOME', withDefault],
      ['SPRING', statics],
    ] as const) {
      expect((await api.validate({ code })).json()).toMatchObject({
        valid: true,
        poolId: pool,
        source: code === 'WELCOME' ? 'default' : 'static',
      });
      const answers = [];
      for (const order of ['a', 'b', 'c', 'a'])
        answers.push(await api.redeem({ code, orderId: `${code}-${order}`, email: `${order}@example.com` }));
      expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 200]);
      expect(answers[3]!.json().id).toBe(answers[0]!.json().id);
    }
    const list = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?poolId=${statics}`)).json();
    expect(list.items.map((r: { orderId: string }) => r.orderId)).toEqual(['SPRING-a', 'SPRING-b', 'SPRING-c']);
    app.clock.set('2026-05-01T00:00:00Z');
    expect((await api.validate({ code: 'SPRING' })).json()).toMatchObject({ valid: false, reason: 'expired' });
    expect((await api.redeem({ code: 'SPRING', orderId: 'SPRING-d' })).statusCode).toBe(409);
    // A retry of a recorded order still answers its redemption, even now.
    expect((await api.redeem({ code: 'SPRING', orderId: 'SPRING-b' })).statusCode).toBe(200);
    app.clock.set('2026-03-01T12:00:00Z');
    // Pool counts: each order once; a rolled-back redemption counts nowhere.
    const countOf = async (id: string) => (await api.call('GET', `/v1/pools/${id}`)).json().counts.redeemed;
    expect(await countOf(statics)).toBe(3);
    const list2 = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?poolId=${withDefault}`)).json().items;
    await api.rollback(list2[0].id);
    expect(await countOf(withDefault)).toBe(2);
    expect(await countOf(uniquePool)).toBe(2); // U-2 (order-b) and U-3 (o-2 after the rollback of o-1)
  });

  it('a code held by two pools: the one assigned to the contact, else ambiguous (never guessed)', async () => {
    const a = await api.pool({ type: 'unique' });
    const b = await api.pool({ type: 'unique' });
    await api.upload(a, ['TWIN']);
    await api.upload(b, ['TWIN']);
    await api.assign(b, 'dee@example.com');
    expect((await api.validate({ code: 'TWIN', email: 'dee@example.com' })).json()).toMatchObject({ valid: true, poolId: b });
    expect((await api.validate({ code: 'TWIN' })).json()).toMatchObject({ valid: false, reason: 'ambiguous_code' });
    const res = await api.redeem({ code: 'TWIN', orderId: 'tw-1' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('ambiguous_code');
    expect((await api.redeem({ code: 'TWIN', orderId: 'tw-1', email: 'dee@example.com' })).json()).toMatchObject({ poolId: b });
  });

  it('lists redemptions with filters and cursor pagination', async () => {
    const all = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?limit=500`)).json().items;
    expect(all.length).toBeGreaterThan(5);
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      pages.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual(all.map((r: { id: string }) => r.id));
    const rolled = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?status=rolled_back`)).json().items;
    expect(rolled).toHaveLength(2); // o-1's, and one of the default code's
    expect((await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?orderId=o-2&source=api`)).json().items).toHaveLength(1);
  });

  it('is merchant-scoped: a token limited to another merchant sees nothing of this one', async () => {
    const other = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: t.auth,
      payload: { name: 'other', domain: 'other.example.com' },
    });
    const token = await app.services.accounts.createToken({ accountId: t.accountId, merchantIds: [other.json().id] });
    const auth = { authorization: `Bearer ${token}` };
    const own = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions`)).json().items[0];
    expect((await api.call('POST', `/v1/merchants/${t.merchantId}/codes/validate`, { code: 'U-1' }, auth)).statusCode).toBe(403);
    expect((await api.call('POST', `/v1/merchants/${t.merchantId}/redemptions`, { code: 'U-1', orderId: 'z' }, auth)).statusCode).toBe(403);
    expect((await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions`, undefined, auth)).statusCode).toBe(403);
    expect((await api.call('POST', `/v1/redemptions/${own.id}/rollback`, undefined, auth)).statusCode).toBe(404);
    // Another account never sees the code at all.
    const stranger = await newTenant(app);
    expect(
      (
        await app.http.inject({
          method: 'POST',
          url: `/v1/merchants/${stranger.merchantId}/codes/validate`,
          headers: stranger.auth,
          payload: { code: 'U-1' },
        })
      ).json().reason,
    ).toBe('code_not_found');
  });
});

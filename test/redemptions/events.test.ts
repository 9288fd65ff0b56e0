import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { redemptionApi } from './setup.ts';

describeEachEngine('events name coupon codes: redemptions from events (a report source)', (ctx) => {
  const { app, t } = useTenant(ctx);
  let api: ReturnType<typeof redemptionApi>;
  let poolId: string;
  let staticPool: string;
  beforeAll(async () => {
    api = redemptionApi(app, t);
    poolId = await api.pool({ type: 'unique' });
    await api.upload(poolId, ['E-1,2026-03-05', 'E-2,2026-03-06', 'E-3,2026-03-07'], 'file');
    await api.assign(poolId, 'ann@example.com'); // E-1
    await api.assign(poolId, 'bob@example.com'); // E-2
    staticPool = await api.pool({ type: 'static', defaultCode: 'WELCOME' });
  });

  const event = (body: object, auth = t.auth) => app.http.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: body });
  const stored = async () =>
    (
      await sql<{ code: string; order_id: string; amount: string | null; currency: string | null; source: string }>`
        select code, order_id, amount::text, currency, source from redemptions where account_id = ${t.accountId} and rolled_back_at is null order by code, order_id`.execute(
        ctx.database.db,
      )
    ).rows;

  it('couponCode records a redemption (source event) and the answer says so; the same order again is not recorded twice', async () => {
    const res = await event({
      type: 'order_placed',
      email: 'ann@example.com',
      properties: { couponCode: 'E-1', orderId: 'ord-1', totalPrice: 30, currency: 'usd' },
    });
    expect(res.statusCode, res.body).toBe(202);
    const answer = res.json();
    expect(answer.redemptions).toEqual({ recorded: [{ code: 'E-1', redemptionId: expect.any(String), poolId }], notRecorded: [] });
    const listed = (await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?source=event`)).json().items;
    expect(listed).toEqual([
      expect.objectContaining({
        id: answer.redemptions.recorded[0].redemptionId,
        code: 'E-1',
        orderId: 'ord-1',
        amount: '30.00',
        currency: 'USD',
        source: 'event',
        contactId: answer.contactId,
      }),
    ]);

    const again = (
      await event({ type: 'order_paid', email: 'ann@example.com', properties: { couponCode: 'E-1', orderId: 'ord-1' } })
    ).json();
    expect(again.redemptions).toEqual({
      recorded: [],
      notRecorded: [{ code: 'E-1', reason: 'already_recorded', redemptionId: answer.redemptions.recorded[0].redemptionId }],
    });
    expect(await stored()).toEqual([{ code: 'E-1', order_id: 'ord-1', amount: '30.00', currency: 'USD', source: 'event' }]);

    // An event that names no code answers as before, without a redemptions field.
    expect((await event({ type: 'viewed', email: 'ann@example.com' })).json()).toEqual({
      contactId: answer.contactId,
      enrolled: [],
      exited: [],
      duplicate: false,
    });
  });

  it('couponCodes: each code recorded or reported with why (unknown, invalid, redeemed by another order)', async () => {
    const res = await event({
      type: 'order_placed',
      email: 'bob@example.com',
      idempotencyKey: 'evt-2',
      properties: { couponCodes: ['E-2', 'NOPE', 42, 'E-1', 'E-2', 'WELCOME'], orderId: 77 },
    });
    expect(res.statusCode, res.body).toBe(202);
    const { redemptions } = res.json();
    expect(redemptions.recorded.map((r: { code: string; poolId: string }) => [r.code, r.poolId])).toEqual([
      ['E-2', poolId],
      ['WELCOME', staticPool],
    ]);
    expect(redemptions.notRecorded).toEqual([
      { code: '42', reason: 'invalid_code' },
      { code: 'NOPE', reason: 'code_not_found' },
      { code: 'E-1', reason: 'already_redeemed' },
    ]);
    // The key again: nothing is done, the first answer is given.
    const replay = (
      await event({ type: 'order_placed', email: 'bob@example.com', idempotencyKey: 'evt-2', properties: { couponCodes: ['E-3'] } })
    ).json();
    expect(replay).toMatchObject({ duplicate: true, redemptions });
    expect((await stored()).map((r) => `${r.code}/${r.order_id}`)).toEqual(['E-1/ord-1', 'E-2/77', 'WELCOME/77']);
  });

  it('the batch intake records the codes of all its events in one go', async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: t.auth,
      payload: {
        events: [
          { type: 'order_placed', email: 'cat@example.com', properties: { couponCode: 'WELCOME', orderId: 'b-1' } },
          { type: 'viewed', email: 'cat@example.com' },
          { type: 'order_placed', email: 'dan@example.com', idempotencyKey: 'b-key', properties: { couponCode: 'WELCOME' } },
          { type: 'order_placed', email: 'dan@example.com', properties: { couponCodes: ['E-2'], orderId: 'b-3' } },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(202);
    const results = res.json().results;
    expect(results[0].redemptions.recorded).toHaveLength(1);
    expect(results[1].redemptions).toBeUndefined();
    expect(results[2].redemptions.recorded).toHaveLength(1);
    expect(results[3].redemptions).toEqual({ recorded: [], notRecorded: [{ code: 'E-2', reason: 'already_redeemed' }] });
    // Without an orderId, the order is the event's idempotency key.
    expect((await stored()).filter((r) => r.code === 'WELCOME').map((r) => r.order_id)).toEqual(['77', 'b-1', 'event:b-key']);
  });

  it("a merchant-limited token's events reach only its merchants' codes", async () => {
    const other = (await api.call('POST', '/v1/merchants', { name: 'other shop', domain: 'other.example.com' })).json();
    const token = (await api.call('POST', '/v1/tokens', { name: 'limited', role: 'marketer', merchantIds: [other.id] })).json();
    expect(token.token).toEqual(expect.any(String));
    const res = await event(
      { type: 'order_placed', email: 'eve@example.com', properties: { couponCode: 'E-3', orderId: 'lim-1' } },
      { authorization: `Bearer ${token.token}` },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().redemptions).toEqual({ recorded: [], notRecorded: [{ code: 'E-3', reason: 'code_not_found' }] });
    expect((await stored()).some((r) => r.code === 'E-3')).toBe(false);
  });
});

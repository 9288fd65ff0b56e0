import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api as conductorApi } from '../conductor/setup.ts';
import { redemptionApi } from '../redemptions/setup.ts';

/** A conversation's per-step counts gain the redemptions and revenue of the codes each step handed out. */
describeEachEngine('per-step redemptions of a conversation', (ctx) => {
  const { app, t } = useTenant(ctx);

  it('counts redeemed and revenue per step: unique codes by code, a shared code once per order for its latest assignment', async () => {
    const a = conductorApi(app, t);
    const r = redemptionApi(app, t);
    app.clock.set('2026-03-01T12:00:00Z');
    const unique = await a.pool();
    await a.upload(unique.id, 'U-1\nU-2\nU-3\nU-4\n', { expiration: 'none' });
    const shared = await a.pool({ type: 'static' });
    await a.call(
      'PUT',
      `/v1/pools/${shared.id}/static-codes`,
      { rows: [{ code: 'SHARE', expiresOn: '2026-12-31', beginDistribution: '2026-02-01', endDistribution: '2026-06-30' }] },
      200,
    );
    const one = await a.couponFields();
    const two = await a.couponFields();
    const assign = (name: string, poolId: string, fieldId: string) => ({
      type: 'action',
      name,
      action: {
        type: 'assignCoupon',
        merchantId: t.merchantId,
        poolId,
        saveCodeTo: fieldId,
        saveExpirationTo: null,
        whenNoCode: 'continue',
      },
    });
    const conv = await a.conversation({
      trigger: { event: 'signup' },
      reentry: 'afterCompletion',
      steps: [assign('Unique code', unique.id, one.code.id), assign('Shared code', shared.id, two.code.id)],
    });
    await a.publish(conv.id);
    const [uniqueStep, sharedStep] = conv.steps.map((s: { id: string }) => s.id);

    for (const who of ['ann', 'bob', 'cat']) await a.event('signup', `${who}@example.com`);
    await app.services.engine.runDue();
    const runs = await a.enrollments(conv.id);
    const codeOf = (email: string) => {
      const contactId = runs.find((x: { contactId: string }) => x.contactId === contacts.get(email))!;
      return contactId.steps.find((s: { stepId: string }) => s.stepId === uniqueStep).code as string;
    };
    const contacts = new Map<string, string>();
    for (const who of ['ann', 'bob', 'cat'])
      contacts.set(`${who}@example.com`, (await a.call('GET', `/v1/contacts?email=${who}@example.com`, undefined, 200)).id);

    const redeem = async (body: object) => {
      const res = await r.redeem(body);
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    app.clock.set('2026-03-01T12:30:00Z');
    await redeem({ code: codeOf('ann@example.com'), orderId: 'u-1', amount: 12, currency: 'EUR' });
    const bobs = await redeem({ code: codeOf('bob@example.com'), orderId: 'u-2', amount: 3.5, currency: 'USD' });
    await redeem({ code: 'SHARE', orderId: 's-1', email: 'ann@example.com', amount: 5, currency: 'EUR' });
    await redeem({ code: 'SHARE', orderId: 's-2', email: 'bob@example.com' });
    await redeem({ code: 'SHARE', orderId: 's-3', email: 'walk-in@example.com', amount: 1, currency: 'EUR' }); // nobody's assignment

    // Ann comes back: a second run gives her another unique code and the shared code again.
    app.clock.set('2026-03-01T13:00:00Z');
    await a.event('signup', 'ann@example.com');
    await app.services.engine.runDue();
    app.clock.set('2026-03-01T14:00:00Z');
    await redeem({ code: 'SHARE', orderId: 's-4', email: 'ann@example.com', amount: 2, currency: 'EUR' }); // her latest assignment only

    const counts = async () => (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    let c = await counts();
    expect(c[uniqueStep]).toMatchObject({ codesAssigned: 4, redeemed: 2 });
    expect(c[uniqueStep].revenue).toEqual([
      { currency: 'EUR', amount: '12.00' },
      { currency: 'USD', amount: '3.50' },
    ]);
    // s-1, s-2, s-4: three orders (s-4 counted once although the step gave Ann the code twice); s-3 is no one's.
    expect(c[sharedStep]).toMatchObject({ entered: 4, redeemed: 3 });
    expect(c[sharedStep].revenue).toEqual([{ currency: 'EUR', amount: '7.00' }]);

    // A rolled-back order counts nowhere; the list of conversations answers the same counts.
    expect((await r.rollback(bobs.id)).statusCode).toBe(200);
    c = await counts();
    expect(c[uniqueStep]).toMatchObject({ redeemed: 1, revenue: [{ currency: 'EUR', amount: '12.00' }] });
    const listed = (await a.call('GET', '/v1/conversations', undefined, 200)).items.find((x: { id: string }) => x.id === conv.id);
    expect(listed.stepCounts[sharedStep]).toMatchObject({ redeemed: 3 });
  });
});

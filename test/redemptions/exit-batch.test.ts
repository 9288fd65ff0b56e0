import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from '../conductor/setup.ts';

/**
 * One batch of redemptions (an event batch: one set-wise exitOnRedemption for all its codes) ends
 * exactly the runs handed those codes whose version says exitOnRedemption: unique codes by the
 * code, a shared code (static pool's default code) only for the contact who redeemed it.
 */
describeEachEngine('exit on redemption, a batch at once', (ctx) => {
  const { app, t } = useTenant(ctx, { setupTimeoutMs: 60_000 });

  it('ends every run a redeemed code was handed to, and no other', async () => {
    const a = api(app, t);
    const { code: field } = await a.couponFields();
    const unique = await a.pool({});
    await a.upload(unique.id, 'XB-1\nXB-2\nXB-3\nXB-4\nXB-5\n', { expiration: 'none' });
    const shared = await a.pool({ type: 'static', defaultCode: 'XB-SHARED' });
    const conversation = async (trigger: string, poolId: string, exitOnRedemption: boolean) => {
      const c = await a.conversation({
        trigger: { event: trigger },
        exitOnRedemption,
        steps: [
          { type: 'action', name: 'Assign', action: { type: 'assignCoupon', merchantId: t.merchantId, poolId, saveCodeTo: field.id } },
          { type: 'delay', name: 'Wait two days', duration: 'P2D' },
        ],
      });
      await a.publish(c.id);
      return c.id as string;
    };
    const x = await conversation('x_started', unique.id, true);
    const y = await conversation('y_started', shared.id, true);
    const z = await conversation('z_started', unique.id, false);
    for (const email of ['ann@example.com', 'bob@example.com', 'cat@example.com']) await a.event('x_started', email);
    for (const email of ['ann@example.com', 'bob@example.com']) await a.event('y_started', email);
    await a.event('z_started', 'dan@example.com');
    await app.services.engine.runDue();

    const emails = new Map<string, string>();
    const runs = async (conversationId: string) => {
      const out = new Map<string, { status: string; exitReason: string | null; code: string }>();
      for (const r of await a.enrollments(conversationId)) {
        if (!emails.has(r.contactId)) emails.set(r.contactId, (await a.call('GET', `/v1/contacts/${r.contactId}`, undefined, 200)).email);
        out.set(emails.get(r.contactId)!, { status: r.status, exitReason: r.exitReason, code: r.steps[0].code });
      }
      return out;
    };
    const before = { x: await runs(x), y: await runs(y), z: await runs(z) };
    for (const group of Object.values(before)) for (const run of group.values()) expect(run.status).toBe('active');
    expect([...before.y.values()].map((r) => r.code)).toEqual(['XB-SHARED', 'XB-SHARED']);
    const codeOf = (group: keyof typeof before, email: string) => before[group].get(email)!.code;

    const batch = await a.call(
      'POST',
      '/v1/events/batch',
      {
        events: [
          { type: 'order_placed', email: 'ann@example.com', properties: { couponCodes: [codeOf('x', 'ann@example.com'), 'XB-SHARED'] } },
          { type: 'order_placed', email: 'bob@example.com', properties: { couponCode: codeOf('x', 'bob@example.com') } },
          { type: 'order_placed', email: 'dan@example.com', properties: { couponCode: codeOf('z', 'dan@example.com') } },
        ],
      },
      202,
    );
    expect(batch.results.map((r: { redemptions: { recorded: unknown[] } }) => r.redemptions.recorded.length)).toEqual([2, 1, 1]);

    const ended = { status: 'exited', exitReason: 'redeemed' };
    const open = { status: 'active', exitReason: null };
    const after = async (conversationId: string) =>
      Object.fromEntries([...(await runs(conversationId))].map(([email, r]) => [email, { status: r.status, exitReason: r.exitReason }]));
    // x: ann's and bob's unique codes are redeemed, cat's is not.
    expect(await after(x)).toEqual({ 'ann@example.com': ended, 'bob@example.com': ended, 'cat@example.com': open });
    // y: both were handed the shared code; only ann redeemed it.
    expect(await after(y)).toEqual({ 'ann@example.com': ended, 'bob@example.com': open });
    // z: dan's code is redeemed, but z does not exit on redemption.
    expect(await after(z)).toEqual({ 'dan@example.com': open });
  });
});

import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api, assignStep } from './setup.ts';

/** The API's answers, read loosely (nested steps). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** "Branches and waits" (docs/ARCHITECTURE.md) through the API and the engine, with the injected clock. */
describeEachEngine('conductor branches', (ctx) => {
  const { app, t } = useTenant(ctx);
  let a: ReturnType<typeof api>;
  beforeAll(() => {
    a = api(app, t);
  });

  const assign = (poolId: string, codeField: string, name = 'Assign') => assignStep(t.merchantId, poolId, codeField, name);
  /** Two pools (codes P10-… and P15-…), coupon fields with a number field `Cart`, and a message showing the code. */
  async function twoPools() {
    const p10 = await a.pool();
    const p15 = await a.pool();
    await a.upload(p10.id, 'P10-A\nP10-B\nP10-C\n', { expiration: 'none' });
    await a.upload(p15.id, 'P15-A\nP15-B\nP15-C\n', { expiration: 'none' });
    const { group, code } = await a.couponFields();
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Cart', type: 'number' }, 201);
    const message = await a.message(`<p>code ${code.snippet}</p>`);
    return { p10, p15, group, code, message };
  }
  const codeIn = (html: string) => /code (P1[05]-[A-Z])/.exec(html)?.[1];

  it('a split on a field gives each contact the right pool’s code; counts per branch; the run shows its path', async () => {
    app.clock.set('2026-04-01T10:00:00Z');
    const { p10, p15, group, code, message } = await twoPools();
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'cart_split' },
        steps: [
          {
            type: 'split',
            name: 'Cart value',
            branches: [
              { name: 'Over 100', condition: { field: `${group.name}.Cart`, op: 'gt', value: 100 }, steps: [assign(p15.id, code.id)] },
            ],
            otherwise: { steps: [assign(p10.id, code.id)] },
          },
          { type: 'message', name: 'Mail', messageId: message.id },
        ],
      }),
    );
    expect((await a.publish(conv.id)).version).toBe(1);
    await a.call('PUT', '/v1/contacts', { email: 'big@example.com', fields: { [group.name]: { Cart: 150 } } }, 200);
    await a.call('PUT', '/v1/contacts', { email: 'small@example.com', fields: { [group.name]: { Cart: 20 } } }, 200);
    await a.event('cart_split', 'big@example.com');
    await a.event('cart_split', 'small@example.com');
    await app.services.engine.runDue();
    expect((await a.mailsTo('big@example.com')).map((m) => codeIn(m.html))).toEqual(['P15-A']);
    expect((await a.mailsTo('small@example.com')).map((m) => codeIn(m.html))).toEqual(['P10-A']);
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    expect(counts[conv.steps[0].id]).toMatchObject({ entered: 2, completed: 2, branches: { 'branches.0': 1, otherwise: 1 } });
    expect(counts[conv.steps[0].branches[0].steps[0].id]).toMatchObject({ entered: 1, codesAssigned: 1 });
    expect(counts[conv.steps[0].otherwise.steps[0].id]).toMatchObject({ entered: 1, codesAssigned: 1 });
    expect(counts[conv.steps[1].id]).toMatchObject({ entered: 2, messagesSent: 2 });
    const big = (await a.enrollments(conv.id)).find((r: { steps: { code?: string }[] }) => r.steps.some((s) => s.code === 'P15-A'));
    expect(big).toMatchObject({ status: 'completed', position: null });
    expect(big.steps.map((s: { path: string; outcome: string }) => `${s.path} ${s.outcome}`)).toEqual([
      'steps.0 branch',
      'steps.0.branches.0.steps.0 assigned',
      'steps.1 sent',
    ]);
    expect(big.steps[0].branch).toBe('Over 100');
  });

  it('a split on a trigger property; the trigger filter (nested splits and coupon-source splits: branches-sources.test.ts)', async () => {
    app.clock.set('2026-04-02T10:00:00Z');
    const { p10, p15, code, message } = await twoPools();
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'tiered', where: { event: 'properties.total', op: 'gte', value: 10 } },
        steps: [
          {
            type: 'split',
            name: 'Tier',
            branches: [
              {
                name: 'Gold',
                condition: { event: 'properties.tier', op: 'eq', value: 'gold' },
                steps: [assign(p15.id, code.id, 'Gold code')],
              },
            ],
            otherwise: { steps: [assign(p10.id, code.id, 'Plain code')] },
          },
          { type: 'message', name: 'Mail', messageId: message.id },
        ],
      }),
    );
    await a.publish(conv.id);
    expect((await a.event('tiered', 'gold@example.com', { properties: { tier: 'gold', total: 50 } })).enrolled).toEqual([conv.id]);
    expect((await a.event('tiered', 'plain@example.com', { properties: { tier: 'silver', total: 50 } })).enrolled).toEqual([conv.id]);
    // Filtered out by the trigger's `where`.
    expect((await a.event('tiered', 'tiny@example.com', { properties: { tier: 'gold', total: 5 } })).enrolled).toEqual([]);
    await app.services.engine.runDue();
    expect((await a.mailsTo('gold@example.com')).map((m) => codeIn(m.html))).toEqual(['P15-A']);
    expect((await a.mailsTo('plain@example.com')).map((m) => codeIn(m.html))).toEqual(['P10-A']);
    expect(await a.mailsTo('tiny@example.com')).toEqual([]);
  });

  it('a split on {coupon, is: "redeemed"} sends the thanks to who redeemed the code and the reminder to who did not', async () => {
    app.clock.set('2026-04-03T10:00:00Z');
    const { p10, code, message } = await twoPools();
    const thanks = await a.message('<p>thanks</p>', 'Thanks');
    const reminder = await a.message(`<p>reminder ${code.snippet}</p>`, 'Reminder');
    const trigger = { event: 'redeem_split' };
    const first: Json = await a.conversation({ trigger, steps: [assign(p10.id, code.id, 'Code')] });
    const assignId = first.steps[0].id;
    const edited: Json = await a.call(
      'PUT',
      `/v1/conversations/${first.id}`,
      {
        name: first.name,
        trigger,
        steps: [
          { id: assignId, ...assign(p10.id, code.id, 'Code') },
          { type: 'message', name: 'Mail', messageId: message.id },
          { type: 'delay', name: 'Two days', duration: 'P2D' },
          {
            type: 'split',
            name: 'Used it?',
            branches: [
              {
                name: 'Redeemed',
                condition: { coupon: assignId, is: 'redeemed' },
                steps: [{ type: 'message', name: 'Thanks', messageId: thanks.id }],
              },
            ],
            otherwise: { steps: [{ type: 'message', name: 'Reminder', messageId: reminder.id }] },
          },
        ],
      },
      200,
    );
    await a.commit(edited);
    await a.publish(first.id);
    await a.event('redeem_split', 'used@example.com');
    await a.event('redeem_split', 'unused@example.com');
    await app.services.engine.runDue();
    const used = (await a.mailsTo('used@example.com')).map((m) => codeIn(m.html));
    expect(used).toHaveLength(1);
    await a.call(
      'POST',
      `/v1/merchants/${t.merchantId}/redemptions`,
      { code: used[0], orderId: 'order-1', email: 'used@example.com' },
      201,
    );
    app.clock.advance(3 * 86_400_000);
    await app.services.engine.runDue();
    expect((await a.mailsTo('used@example.com')).map((m) => m.subject).sort()).toEqual(['Thanks', 'Your 10% off']);
    expect((await a.mailsTo('unused@example.com')).map((m) => m.subject).sort()).toEqual(['Reminder', 'Your 10% off']);
  });

  it('waitForEvent: received, timed out, and the event in the same batch as the timeout takes exactly one branch', async () => {
    app.clock.set('2026-04-03T10:00:00Z');
    const { p10, p15, code, message } = await twoPools();
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'browse' },
        steps: [
          {
            type: 'waitForEvent',
            name: 'Wait for the order',
            event: 'order',
            within: 'P3D',
            received: { steps: [assign(p15.id, code.id, 'Thanks code'), { type: 'message', name: 'Thanks', messageId: message.id }] },
            timedOut: { steps: [assign(p10.id, code.id, 'Reminder code'), { type: 'message', name: 'Reminder', messageId: message.id }] },
          },
        ],
      }),
    );
    await a.publish(conv.id);
    for (const who of ['buyer', 'idle', 'late']) await a.event('browse', `${who}@example.com`);
    await app.services.engine.runDue();
    const waiting = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts[conv.steps[0].id];
    expect(waiting).toMatchObject({ entered: 3, waiting: 3 });
    app.clock.advance(24 * 3600_000);
    await a.event('order', 'buyer@example.com');
    await app.services.engine.runDue();
    expect((await a.mailsTo('buyer@example.com')).map((m) => codeIn(m.html))).toEqual(['P15-A']);
    // Past the timeout, and `late`'s order arrives before the batch runs: received, once.
    app.clock.advance(3 * 24 * 3600_000);
    await a.event('order', 'late@example.com');
    await app.services.engine.runDue();
    await a.event('order', 'idle@example.com'); // after its timeout: changes nothing
    await app.services.engine.runDue();
    expect((await a.mailsTo('late@example.com')).map((m) => codeIn(m.html))).toEqual(['P15-B']);
    expect((await a.mailsTo('idle@example.com')).map((m) => codeIn(m.html))).toEqual(['P10-A']);
    const runs = await a.enrollments(conv.id);
    for (const r of runs) expect(r.steps.filter((s: { stepId: string }) => s.stepId === conv.steps[0].id)).toHaveLength(1);
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts[conv.steps[0].id];
    expect(counts).toMatchObject({ waiting: 0, branches: { received: 2, timedOut: 1 } });
  });

  it('a send window holds a message due at 22:00 until 09:00 next day (account zone UTC; the DST night in Berlin is in send-window-dst); the frequency cap skips the 4th mail in a week', async () => {
    await a.call('PUT', '/v1/conductor/settings', { frequencyCap: { messages: 3, perDays: 7 } }, 200);
    const message = await a.message('<p>hello</p>');
    const windowed = await a.commit(
      await a.conversation({
        trigger: { event: 'late_night' },
        sendWindow: { start: '09:00', end: '20:00' },
        steps: [{ type: 'message', name: 'Mail', messageId: message.id }],
      }),
    );
    await a.publish(windowed.id);
    // The account's zone is UTC here; the DST night in Europe/Berlin through the engine is send-window-dst.test.ts.
    app.clock.set('2026-03-28T22:00:00Z');
    await a.event('late_night', 'owl@example.com');
    await app.services.engine.runDue();
    expect(await a.mailsTo('owl@example.com')).toEqual([]);
    app.clock.set('2026-03-29T08:59:00Z');
    await app.services.engine.runDue();
    expect(await a.mailsTo('owl@example.com')).toEqual([]);
    app.clock.set('2026-03-29T09:00:00Z');
    await app.services.engine.runDue();
    expect(await a.mailsTo('owl@example.com')).toHaveLength(1);

    const capped = await a.commit(
      await a.conversation({
        trigger: { event: 'spam' },
        steps: [1, 2, 3, 4].map((i) => ({ type: 'message', name: `Mail ${i}`, messageId: message.id })),
      }),
    );
    await a.publish(capped.id);
    await a.event('spam', 'busy@example.com');
    await app.services.engine.runDue();
    expect(await a.mailsTo('busy@example.com')).toHaveLength(3);
    const [run] = await a.enrollments(capped.id);
    expect(run.status).toBe('completed');
    expect(run.steps.map((s: { outcome: string }) => s.outcome)).toEqual(['sent', 'sent', 'sent', 'capped']);
    await a.call('PUT', '/v1/conductor/settings', { frequencyCap: null }, 200);
  });

  it('runs started on version 1 finish on version 1 after version 2 (with a new branch) is published', async () => {
    app.clock.set('2026-04-05T10:00:00Z');
    const { p10, p15, group, code, message } = await twoPools();
    const v1 = [
      { type: 'delay', name: 'Wait', duration: 'PT1H' },
      assign(p10.id, code.id),
      { type: 'message', name: 'Mail', messageId: message.id },
    ];
    const conv: Json = await a.commit(await a.conversation({ trigger: { event: 'versioned' }, steps: v1 }));
    await a.publish(conv.id);
    await a.event('versioned', 'early@example.com');
    const draft = await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200);
    const updated = await a.call(
      'PUT',
      `/v1/conversations/${conv.id}`,
      {
        name: draft.name,
        trigger: { event: 'versioned' },
        steps: [
          draft.steps[0],
          {
            type: 'split',
            name: 'Any cart',
            branches: [
              { name: 'All', condition: { field: `${group.name}.Cart`, op: 'isNotSet' }, steps: [assign(p15.id, code.id, 'New')] },
            ],
            otherwise: { steps: [draft.steps[1]] },
          },
          draft.steps[2],
        ],
      },
      200,
    );
    expect((await a.publish(updated.id)).version).toBe(2);
    await a.event('versioned', 'later@example.com');
    app.clock.advance(3600_000);
    await app.services.engine.runDue();
    expect((await a.mailsTo('early@example.com')).map((m) => codeIn(m.html))).toEqual(['P10-A']);
    expect((await a.mailsTo('later@example.com')).map((m) => codeIn(m.html))).toEqual(['P15-A']);
    const runs = await a.enrollments(conv.id);
    expect(runs.map((r: { version: number; status: string }) => `${r.version} ${r.status}`).sort()).toEqual(['1 completed', '2 completed']);
  });
});

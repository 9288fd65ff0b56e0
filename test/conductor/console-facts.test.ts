import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from './setup.ts';

/** What the console shows about a conversation, as the API answers it: empty-code warnings, waiting runs, commits. */
describeEachEngine('conductor: what the console shows', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    a = api(app, t);
  });
  afterAll(() => app.http.close());

  const assign = (poolId: string, codeId: string, extra: object = {}) => ({
    type: 'action',
    name: 'Assign Coupon Code 10%',
    action: { type: 'assignCoupon', merchantId: t.merchantId, poolId, saveCodeTo: codeId, ...extra },
  });
  type Saved = { id: string; steps: { id: string; type: string; committed?: unknown }[] };
  const commit = async (conversation: Promise<Saved>): Promise<Saved> => (await a.commit(await conversation)) as Saved;
  const check = async (conversationId: string) => a.call('POST', `/v1/conversations/${conversationId}/check`, undefined, 200);

  it('a new action step ends the run when no code is left (the default is exit)', async () => {
    const pool = await a.pool();
    const { code } = await a.couponFields();
    const conv = await a.conversation({ trigger: { event: 'default_exit' }, steps: [assign(pool.id, code.id)] });
    expect(conv.steps[0].action.whenNoCode).toBe('exit');
  });

  it('warns when a message shows a coupon field that a "continue" step may leave empty, unless it has a fallback', async () => {
    const pool = await a.pool();
    const { group, code } = await a.couponFields();
    const bare = await a.message(`<p>Your code: ${code.snippet}</p>`);
    const guarded = await a.message(`<p>Your code: {{ ${group.name}.SCA10Off | default: "WELCOME" }}</p>`);
    const steps = (messageId: string, whenNoCode: string, poolId = pool.id) => [
      assign(poolId, code.id, { whenNoCode }),
      { type: 'message', name: 'Mail', messageId },
    ];

    const risky = await commit(a.conversation({ trigger: { event: 'empty_code' }, steps: steps(bare.id, 'continue') }));
    const result = await check(risky.id);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      {
        stepId: risky.steps[1]!.id,
        path: 'steps.1',
        field: 'message',
        message: `the coupon field ${group.name}.SCA10Off may be empty: "Assign Coupon Code 10%" continues when no code is left; add a fallback ({{ ${group.name}.SCA10Off | default: "…" }}) or end the run when no code is left`,
      },
    ]);
    // Published anyway (a warning), with the same warning in the answer.
    expect((await a.publish(risky.id)).warnings).toEqual(result.warnings);

    // A fallback, ending the run, or a pool with a default code: no warning.
    const withFallback = await commit(a.conversation({ trigger: { event: 'empty_code' }, steps: steps(guarded.id, 'continue') }));
    expect((await check(withFallback.id)).warnings).toEqual([]);
    const ending = await commit(a.conversation({ trigger: { event: 'empty_code' }, steps: steps(bare.id, 'exit') }));
    expect((await check(ending.id)).warnings).toEqual([]);
    const withDefault = await a.pool({ defaultCode: 'EVERYONE10' });
    const defaulted = await commit(a.conversation({ trigger: { event: 'empty_code' }, steps: steps(bare.id, 'continue', withDefault.id) }));
    expect((await check(defaulted.id)).warnings).toEqual([]);
  });

  it('counts the runs waiting in a delay on that step, and answers the committed message in full', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const message = await a.message('<p>Hello</p>', 'Welcome');
    const conv = await commit(
      a.conversation({
        trigger: { event: 'waits' },
        steps: [
          { type: 'delay', name: 'Wait a day', duration: 'P1D' },
          { type: 'message', name: 'Mail', messageId: message.id },
        ],
      }),
    );
    expect(conv.steps[1]!.committed).toMatchObject({
      messageId: message.id,
      subject: 'Welcome',
      html: '<p>Hello</p>',
      text: null,
      fromEmail: 'shop@example.com',
    });
    await a.publish(conv.id);
    for (const email of ['w1@example.com', 'w2@example.com', 'w3@example.com']) await a.event('waits', email);
    await app.services.engine.runDue();
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    expect(counts[conv.steps[0]!.id]).toMatchObject({ entered: 3, completed: 0, waiting: 3 });

    app.clock.advance(86_400_000);
    await app.services.engine.runDue();
    const after = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    expect(after[conv.steps[0]!.id]).toMatchObject({ entered: 3, completed: 3, waiting: 0 });
    expect(after[conv.steps[1]!.id]).toMatchObject({ messagesSent: 3, waiting: 0 });
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from './setup.ts';

describeEachEngine('conductor rules', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    a = api(app, t);
  });
  afterAll(() => app.http.close());

  const assignStep = (poolId: string, codeId: string, expId: string | null, extra: object = {}) => ({
    type: 'action',
    name: 'Assign Coupon Code 10%',
    action: {
      type: 'assignCoupon',
      merchantId: t.merchantId,
      poolId,
      saveCodeTo: codeId,
      saveExpirationTo: expId,
      whenNoCode: 'exit',
      ...extra,
    },
  });
  const publishRefusal = async (conversationId: string) => {
    const res = await app.http.inject({ method: 'POST', url: `/v1/conversations/${conversationId}/publish`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe('publish_refused');
    return body.error.details as { stepId: string | null; field: string; message: string }[];
  };

  it('refuses to publish: uncommitted message, coupon field filled only later, wrong field types, missing pool', async () => {
    const pool = await a.pool();
    const { code, expiration } = await a.couponFields();
    const message = await a.message(`code ${code.snippet} until ${expiration.snippet}`);
    const conv = await a.conversation({
      trigger: { event: 'signup' },
      steps: [{ type: 'message', name: 'Too early', messageId: message.id }, assignStep(pool.id, code.id, expiration.id)],
    });
    let details = await publishRefusal(conv.id);
    expect(details).toEqual([
      {
        stepId: conv.steps[0].id,
        path: 'steps.0',
        field: 'messageId',
        message: 'the message is not committed to this step: commit it first',
      },
    ]);
    await a.commit(conv);
    details = await publishRefusal(conv.id);
    expect(details.map((d) => d.message)).toEqual([
      expect.stringContaining('uses the coupon field'),
      expect.stringContaining('uses the coupon field'),
    ]);
    expect(details[0]!.message).toContain('no earlier "assign coupon" step fills it');

    const wrongTypes = await a.conversation({
      trigger: { event: 'signup' },
      steps: [assignStep(pool.id, expiration.id, code.id), assignStep('no-such-pool', code.id, null)],
    });
    details = await publishRefusal(wrongTypes.id);
    expect(details).toEqual([
      {
        stepId: wrongTypes.steps[0].id,
        path: 'steps.0',
        field: 'action.saveCodeTo',
        message: expect.stringContaining('the code goes into a text field'),
      },
      {
        stepId: wrongTypes.steps[0].id,
        path: 'steps.0',
        field: 'action.saveExpirationTo',
        message: expect.stringContaining('goes into a date field'),
      },
      { stepId: wrongTypes.steps[1].id, path: 'steps.1', field: 'action.poolId', message: 'the pool does not exist' },
    ]);
    // The conversation stays a draft.
    expect((await a.call('GET', `/v1/conversations/${wrongTypes.id}`, undefined, 200)).status).toBe('draft');
    // The check endpoint answers the same without publishing.
    const check = await a.call('POST', `/v1/conversations/${wrongTypes.id}/check`, undefined, 200);
    expect(check.valid).toBe(false);
    expect(check.errors).toHaveLength(3);
  });

  it('warns (and publishes) when the assign step is earlier but not right before the message', async () => {
    const pool = await a.pool();
    const { code } = await a.couponFields();
    const message = await a.message(`code ${code.snippet}`);
    const conv = await a.conversation({
      trigger: { event: 'signup' },
      steps: [
        assignStep(pool.id, code.id, null),
        { type: 'delay', name: 'Wait', duration: 'P1D' },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(conv);
    const published = await a.publish(conv.id);
    expect(published.version).toBe(1);
    expect(published.warnings).toEqual([
      { stepId: conv.steps[2].id, path: 'steps.2', field: 'message', message: expect.stringContaining('right before this message') },
    ]);
  });

  it('exit events end runs; re-entry follows the rule; a paused conversation enrolls nobody and its runs hold', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await a.pool();
    await a.upload(pool.id, 'X1\nX2\nX3\nX4\nX5\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const steps = [{ type: 'delay', name: 'Wait', duration: 'PT1H' }, assignStep(pool.id, code.id, null)];
    const once = await a.conversation({ trigger: { event: 'cart' }, exitEvents: ['order'], reentry: 'never', steps });
    const again = await a.conversation({ trigger: { event: 'cart' }, exitEvents: ['order'], reentry: 'afterCompletion', steps });
    await a.publish(once.id);
    await a.publish(again.id);

    const first = await a.event('cart', 'carol@example.com');
    expect(new Set(first.enrolled)).toEqual(new Set([once.id, again.id]));
    const exit = await a.event('order', 'carol@example.com');
    expect(new Set(exit.exited)).toEqual(new Set([once.id, again.id]));
    app.clock.advance(2 * 3600_000);
    expect((await app.services.engine.runDue()).runs).toBe(0); // exited runs do nothing
    const runs = await a.enrollments(once.id);
    expect(runs[0]).toMatchObject({ status: 'exited', exitReason: 'exit event order', steps: [] });

    // Re-entry: `never` refuses a second run; `afterCompletion` starts one now that the first ended.
    const second = await a.event('cart', 'carol@example.com');
    expect(second.enrolled).toEqual([again.id]);

    // Paused: no new runs, and runs hold where they are.
    await a.call('POST', `/v1/conversations/${again.id}/pause`, undefined, 200);
    expect((await a.event('cart', 'dan@example.com')).enrolled).toEqual([once.id]);
    app.clock.advance(2 * 3600_000);
    await app.services.engine.runDue();
    // Held runs are `held` (out of the engine's due index) until the conversation resumes.
    const held = (await a.enrollments(again.id)).filter((r: { status: string }) => r.status === 'held');
    expect(held).toHaveLength(1);
    expect(held[0].steps).toEqual([]);
    const conflict = await app.http.inject({ method: 'POST', url: `/v1/conversations/${again.id}/pause`, headers: t.auth });
    expect(conflict.statusCode).toBe(409);
    await a.call('POST', `/v1/conversations/${again.id}/resume`, undefined, 200);
    await app.services.engine.runDue();
    const resumed = (await a.enrollments(again.id)).filter((r: { status: string }) => r.status === 'completed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0].steps.map((s: { outcome: string }) => s.outcome)).toEqual(['waited', 'assigned']);
  });

  it('an unsubscribed contact gets no mail: the run ends with that reason; whenNoCode exit ends the run too', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await a.pool();
    await a.upload(pool.id, 'ONLY1\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const message = await a.message(`code ${code.snippet}`);
    const conv = await a.conversation({
      trigger: { event: 'promo' },
      steps: [assignStep(pool.id, code.id, null, { whenNoCode: 'exit' }), { type: 'message', name: 'Mail', messageId: message.id }],
    });
    await a.commit(conv);
    await a.publish(conv.id);
    await a.call('PUT', '/v1/contacts', { email: 'unsub@example.com', status: 'unsubscribed' }, 200);
    await a.event('promo', 'unsub@example.com');
    await a.event('promo', 'late@example.com');
    await app.services.engine.runDue();
    const runs = await a.enrollments(conv.id);
    expect(runs.map((r: { status: string; exitReason: string }) => [r.status, r.exitReason])).toEqual([
      ['exited', 'unsubscribed'],
      ['exited', 'no code: pool_exhausted'],
    ]);
    expect(await a.mailsTo('unsub@example.com')).toEqual([]);
    expect(await a.mailsTo('late@example.com')).toEqual([]);
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    expect(counts[conv.steps[0].id]).toMatchObject({ entered: 2, codesAssigned: 1, noCode: 1, exits: 1 });
    expect(counts[conv.steps[1].id]).toMatchObject({ entered: 1, messagesSent: 0, exits: 1 });
  });

  it('runs in progress finish on the version they started; a new commit is needed for message edits', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const message = await a.message('<p>first</p>', 'Version one');
    const conv = await a.conversation({
      trigger: { event: 'welcome' },
      steps: [
        { type: 'delay', name: 'Wait', duration: 'PT1H' },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(conv);
    await a.publish(conv.id);
    await a.event('welcome', 'v1@example.com');
    // Edit the message: without a new commit, the conversation still sends the committed copy.
    await a.call(
      'PUT',
      `/v1/messages/${message.id}`,
      { name: message.name, fromName: 'Shop', fromEmail: 'shop@example.com', subject: 'Version two', html: '<p>second</p>', text: null },
      200,
    );
    await a.publish(conv.id);
    await a.event('welcome', 'v2a@example.com');
    await a.commit(conv);
    expect((await a.publish(conv.id)).version).toBe(3);
    await a.event('welcome', 'v3@example.com');
    app.clock.advance(3600_000);
    await app.services.engine.runDue();
    expect((await a.mailsTo('v1@example.com'))[0]!.subject).toBe('Version one');
    expect((await a.mailsTo('v2a@example.com'))[0]!.subject).toBe('Version one');
    expect((await a.mailsTo('v3@example.com'))[0]!.subject).toBe('Version two');
    const versions = (await a.enrollments(conv.id)).map((r: { version: number }) => r.version);
    expect(versions).toEqual([1, 2, 3]);
  });

  it('an event with a key already seen does nothing', async () => {
    const conv = await a.conversation({
      trigger: { event: 'keyed' },
      reentry: 'afterCompletion',
      steps: [{ type: 'delay', name: 'Wait', duration: 'PT0S' }],
    });
    await a.publish(conv.id);
    const first = await a.event('keyed', 'k@example.com', { idempotencyKey: 'evt-1' });
    expect(first.enrolled).toEqual([conv.id]);
    await app.services.engine.runDue();
    const replay = await a.event('keyed', 'k@example.com', { idempotencyKey: 'evt-1' });
    expect(replay).toMatchObject({ enrolled: [conv.id], duplicate: true });
    expect(await a.enrollments(conv.id)).toHaveLength(1);
  });

  it('a batch of events answers each as single events would, in order, keys and all', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const conv = await a.conversation({
      trigger: { event: 'b_start' },
      exitEvents: ['b_stop'],
      reentry: 'afterCompletion',
      steps: [{ type: 'delay', name: 'Wait', duration: 'P1D' }],
    });
    await a.publish(conv.id);
    await a.event('b_start', 'seen@example.com', { idempotencyKey: 'batch-seen' });
    const res = await a.call(
      'POST',
      '/v1/events/batch',
      {
        events: [
          { type: 'b_start', email: 'x@example.com' },
          { type: 'b_start', email: 'X@example.com' }, // same contact, already in a run: nothing
          { type: 'b_stop', email: 'x@example.com' }, // ends it
          { type: 'b_start', email: 'x@example.com', idempotencyKey: 'batch-k' }, // starts again
          { type: 'b_start', email: 'y@example.com', idempotencyKey: 'batch-k' }, // key repeated in the batch
          { type: 'b_start', email: 'z@example.com', idempotencyKey: 'batch-seen' }, // key seen before
        ],
      },
      202,
    );
    const results = res.results as { contactId: string; enrolled: string[]; exited: string[]; duplicate: boolean }[];
    expect(results.map((r) => [r.enrolled, r.exited, r.duplicate])).toEqual([
      [[conv.id], [], false],
      [[], [], false],
      [[], [conv.id], false],
      [[conv.id], [], false],
      [[conv.id], [], true],
      [[conv.id], [], true],
    ]);
    expect(new Set(results.slice(0, 5).map((r) => r.contactId)).size).toBe(1);
    const runs = await a.enrollments(conv.id);
    expect(runs.map((r: { status: string }) => r.status).sort()).toEqual(['active', 'active', 'exited']);
    const bad = await app.http.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: t.auth,
      payload: { events: [{ type: 'b_start', email: 'not-an-email' }] },
    });
    expect(bad.statusCode).toBe(422);
  });
});

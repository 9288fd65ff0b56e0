import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';

/** Legal, but stopped by the 1 s render limit for every contact: 25 million loop iterations. */
const SLOW = '{% for i in (1..5000) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}done';
const CONTACTS = 200;

/**
 * One account's slow message, 200 contacts in one batch, and meanwhile another account works.
 * Ordering, never time: each of the other account's answers must arrive while the batch is running.
 */
describeEachEngine('tenants cannot starve each other', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let slow: TestTenant;
  let other: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database, { config: { RENDER_THREADS: 2 } });
    slow = await newTenant(app);
    other = await newTenant(app);
  });
  afterAll(() => app.http.close());

  it("a message that burns its render budget fails its step for each contact, and another account's requests answer meanwhile", async () => {
    const a = api(app, slow);
    const message = await a.message(SLOW);
    const conversation = await a.conversation({
      trigger: { event: 'slow_send' },
      steps: [{ type: 'message', name: 'Slow', messageId: message.id }],
    });
    await a.commit(conversation);
    await a.publish(conversation.id);
    const events = Array.from({ length: CONTACTS }, (_, i) => ({ type: 'slow_send', email: `c${i}@example.com` }));
    await a.call('POST', '/v1/events/batch', { events }, 202);

    const b = api(app, other);
    const fine = await b.message('<p>Hello {{ contact.email }}</p>');
    await b.call('PUT', '/v1/contacts', { email: 'bea@example.com' }, 200);

    let batchDone = false;
    const batch = app.services.engine.runDue(500).finally(() => (batchDone = true));
    // The batch has reached its message step: a render of the slow account is on a thread.
    while (app.services.renderPool.load().running === 0) {
      expect(batchDone).toBe(false);
      await new Promise((r) => setTimeout(r, 5));
    }

    // The event loop is free: an answer that needs no database comes while the batch runs.
    const unauthenticated = await app.http.inject({ method: 'GET', url: '/v1/messages' });
    expect(unauthenticated.statusCode).toBe(401);
    expect(batchDone).toBe(false);

    const [read, preview] = await Promise.all([
      app.http
        .inject({ method: 'GET', url: `/v1/messages/${fine.id}`, headers: other.auth })
        .then((res) => ({ res, duringBatch: !batchDone })),
      app.http
        .inject({ method: 'POST', url: `/v1/messages/${fine.id}/preview`, headers: other.auth, payload: { email: 'bea@example.com' } })
        .then((res) => ({ res, duringBatch: !batchDone })),
    ]);
    expect(read.res.statusCode).toBe(200);
    expect(preview.res.statusCode, preview.res.body).toBe(200);
    expect(preview.res.json().html).toBe('<p>Hello bea@example.com</p>');
    if (ctx.engine === 'postgres') {
      // Its own connections: the other account is served while the batch is still rendering.
      expect(read.duringBatch).toBe(true);
      expect(preview.duringBatch).toBe(true);
    }
    // PGlite has one connection, which the batch's transaction holds: there the other account's
    // reads wait for the batch to commit (bounded: the slow message gives up after a few budgets).

    const report = await batch;
    expect(report.runs).toBe(CONTACTS);
    const runs = await a.enrollments(conversation.id);
    expect(runs).toHaveLength(CONTACTS);
    for (const run of runs) {
      expect(run.status).toBe('exited');
      expect(run.steps).toHaveLength(1);
      expect(run.steps[0].outcome).toBe('failed');
      expect(run.steps[0].detail).toMatch(/^render_timeout: /);
    }
    // Three contacts hit the limit; then the message is known to exceed it and the rest is not rendered.
    const rendered = runs.filter((r: { steps: { detail: string }[] }) => /longer than 1000 ms/.test(r.steps[0]!.detail));
    expect(rendered).toHaveLength(3);
    expect(await a.mailsTo('c0@example.com')).toEqual([]);
  });
});

import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api } from './setup.ts';

/**
 * The engine as a job system: a run whose step throws is isolated from its batch, counts attempts
 * with a doubling backoff, is parked as `failed` (shown with its error) and can be resumed; runs of
 * a paused conversation are `held`, out of the claim's due index.
 */
describeEachEngine('conductor failures', (ctx) => {
  const { app, t } = useTenant(ctx, { config: { CONDUCTOR_MAX_ATTEMPTS: 3, CONDUCTOR_RETRY_SECONDS: 60 } });
  let a: ReturnType<typeof api>;
  beforeAll(async () => {
    a = api(app, t);
  });

  /** Every run of the conversation, page after page. */
  const allRuns = async (conversationId: string) => {
    const items = [];
    for (let cursor = ''; ;) {
      const page = await a.call(
        'GET',
        `/v1/conversations/${conversationId}/enrollments?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        200,
      );
      items.push(...page.items);
      if (!page.nextCursor) return items;
      cursor = page.nextCursor;
    }
  };
  const count = async (q: ReturnType<typeof sql>) => Number(((await q.execute(ctx.database.db)).rows[0] as { n: string | number }).n);

  it('one run whose step always throws among 500: the 500 complete, the bad one is parked failed with its error, then resumed', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await a.pool();
    await a.upload(pool.id, Array.from({ length: 510 }, (_, i) => `P${String(i).padStart(5, '0')}`).join('\n') + '\n', {
      expiration: 'none',
    });
    const { group, code } = await a.couponFields();
    const nick = await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Nick', type: 'text' }, 201);
    // A real failure, not a mock: `split: ""` cuts by UTF-16 unit, so a nick starting with an emoji
    // renders a lone surrogate, and PostgreSQL refuses that text when the mail is written to the
    // outbox (invalid JSON escape): the whole step (and the batch) throws for that one contact.
    const message = await a.message(`<p>Hi {{ ${group.name}.Nick | split: "" | first }}, your code: ${code.snippet}</p>`);
    const conv = await a.conversation({
      trigger: { event: 'poison_test' },
      steps: [
        {
          type: 'action',
          name: 'Assign',
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(conv);
    await a.publish(conv.id);
    expect(nick.snippet).toContain('Nick');

    const tag = conv.id.slice(-6);
    const good = Array.from({ length: 500 }, (_, i) => `good${i}-${tag}@example.com`);
    const bad = `poison-${tag}@example.com`;
    for (const email of good) await a.call('PUT', '/v1/contacts', { email, fields: { [group.name]: { Nick: 'Ann' } } }, 200);
    await a.call('PUT', '/v1/contacts', { email: bad, fields: { [group.name]: { Nick: '😀Bob' } } }, 200);
    // The bad one in the middle of the batch.
    const emails = [...good.slice(0, 250), bad, ...good.slice(250)];
    await a.call('POST', '/v1/events/batch', { events: emails.map((email) => ({ type: 'poison_test', email })) }, 202);

    // One batch holds all 501 runs.
    const first = await app.services.engine.runDue(1000);
    expect(first).toMatchObject({ runs: 501, failed: 1 });
    const runs = await allRuns(conv.id);
    const find = (list: { id: string; status: string; lastError: string | null }[], status: string) =>
      list.filter((r) => r.status === status);
    expect(find(runs, 'completed')).toHaveLength(500);
    const poisoned = find(runs, 'active')[0]!;
    expect(poisoned).toMatchObject({ attempts: 1, stepIndex: 0, steps: [], nextDueAt: '2026-03-01T12:01:00.000Z' });
    expect(poisoned.lastError).toContain('step "Mail"');
    expect(poisoned.lastError).toMatch(/json|surrogate/i);
    // The good runs did all they should: 500 codes, 500 mails; the bad run's code went back (rolled back).
    expect(await count(sql`select count(*) as n from outbox where kind = 'message' and to_email like ${`%-${tag}@example.com`}`)).toBe(500);
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 500, available: 10 });

    // Not due before its backoff; each further attempt waits twice as long; the third parks it.
    app.clock.set('2026-03-01T12:00:59Z');
    expect((await app.services.engine.runDue()).runs).toBe(0);
    app.clock.set('2026-03-01T12:01:00Z');
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 1, failed: 1 });
    let [run] = (await allRuns(conv.id)).filter((r: { id: string }) => r.id === poisoned.id);
    expect(run).toMatchObject({ status: 'active', attempts: 2, nextDueAt: '2026-03-01T12:03:00.000Z' });
    app.clock.set('2026-03-01T12:03:00Z');
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 1, failed: 1 });
    [run] = (await allRuns(conv.id)).filter((r: { id: string }) => r.id === poisoned.id);
    expect(run).toMatchObject({ status: 'failed', attempts: 3, nextDueAt: null, endedAt: null, steps: [] });
    expect(run.lastError).toMatch(/json|surrogate/i);
    // Parked: never claimed again, whatever the time.
    app.clock.set('2026-03-09T00:00:00Z');
    expect((await app.services.engine.runDue()).runs).toBe(0);
    // The contact's journey shows it too.
    const contact = await a.call('GET', `/v1/contacts?email=${encodeURIComponent(bad)}`, undefined, 200);
    expect(contact.runs).toEqual([expect.objectContaining({ id: poisoned.id, status: 'failed', attempts: 3 })]);
    // Failed runs still count as the contact's open run: a new trigger event starts no second one.
    expect((await a.event('poison_test', bad)).enrolled).toEqual([]);

    // Fix the data, resume the run: it goes on from its step and completes.
    await a.call('PUT', '/v1/contacts', { email: bad, fields: { [group.name]: { Nick: 'Bob' } } }, 200);
    const resumed = await a.call('POST', `/v1/conversations/${conv.id}/enrollments/${poisoned.id}/resume`, undefined, 200);
    expect(resumed).toMatchObject({ id: poisoned.id, status: 'active', attempts: 0, nextDueAt: '2026-03-09T00:00:00.000Z' });
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 1, steps: 2 });
    [run] = (await allRuns(conv.id)).filter((r: { id: string }) => r.id === poisoned.id);
    expect(run).toMatchObject({ status: 'completed', attempts: 0, lastError: null });
    expect(run.steps.map((s: { outcome: string }) => s.outcome)).toEqual(['assigned', 'sent']);
    const [mail] = await a.mailsTo(bad);
    expect(mail!.html).toContain('Hi B, your code: P');

    // Only a failed run can be resumed; another conversation's or an unknown run is not found.
    const again = await app.http.inject({
      method: 'POST',
      url: `/v1/conversations/${conv.id}/enrollments/${poisoned.id}/resume`,
      headers: t.auth,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('invalid_state');
    const unknown = await app.http.inject({ method: 'POST', url: `/v1/conversations/${conv.id}/enrollments/nope/resume`, headers: t.auth });
    expect(unknown.statusCode).toBe(404);
    const other = await newTenant(app);
    const foreign = await app.http.inject({
      method: 'POST',
      url: `/v1/conversations/${conv.id}/enrollments/${poisoned.id}/resume`,
      headers: other.auth,
    });
    expect(foreign.statusCode).toBe(404);
  }, 120_000);

  it('paused: runs become held (out of the due index) and are not claimed; resumed: active again and run', async () => {
    app.clock.set('2026-04-01T12:00:00Z');
    const conv = await a.conversation({
      trigger: { event: 'hold_test' },
      steps: [
        { type: 'delay', name: 'Wait', duration: 'PT1H' },
        { type: 'action', name: 'Tag', action: { type: 'setField', field: (await a.couponFields()).code.id, value: 'tagged' } },
      ],
    });
    await a.publish(conv.id);
    for (const who of ['h1', 'h2', 'h3']) await a.event('hold_test', `${who}-${conv.id.slice(-6)}@example.com`);
    await a.call('POST', `/v1/conversations/${conv.id}/pause`, undefined, 200);
    const statuses = async () => (await a.enrollments(conv.id)).map((r: { status: string }) => r.status);
    expect(await statuses()).toEqual(['held', 'held', 'held']);
    // The claim's partial index only holds active runs: held ones are not in it.
    const index = await sql<{
      indexdef: string;
    }>`select indexdef from pg_indexes where indexname = 'enrollments_due_idx' and schemaname = current_schema()`.execute(ctx.database.db);
    expect(index.rows[0]!.indexdef).toMatch(/WHERE \(status = 'active'::text\)/);
    expect(await count(sql`select count(*) as n from enrollments where conversation_id = ${conv.id} and status = 'active'`)).toBe(0);
    app.clock.advance(2 * 3600_000);
    expect((await app.services.engine.runDue()).runs).toBe(0);
    expect(await statuses()).toEqual(['held', 'held', 'held']);
    await a.call('POST', `/v1/conversations/${conv.id}/resume`, undefined, 200);
    expect(await statuses()).toEqual(['active', 'active', 'active']);
    expect(await app.services.engine.runDue()).toMatchObject({ runs: 3, steps: 6 });
    expect(await statuses()).toEqual(['completed', 'completed', 'completed']);
  });

  it('the claim walks the due index: its plan on this engine uses enrollments_due_idx', async () => {
    // The planner picks the index once the table is not tiny; force the comparison to be about
    // the index's usability by disabling sequential scans for this one statement's transaction.
    const plan = await ctx.database.db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx);
      return sql<{ 'QUERY PLAN': string }>`
        explain select e.* from enrollments e
        where e.status = 'active' and e.next_due_at <= now()
        order by e.next_due_at limit 500 for update of e skip locked`.execute(tx);
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('enrollments_due_idx');
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { createRenderPool } from './render-pool.ts';
import { createRenderer, type RenderContext, type TemplatePart } from './template.ts';

const contexts = (n: number): RenderContext[] =>
  Array.from({ length: n }, (_, i) => ({
    contact: { id: `c${i}`, email: `c${i}@example.com`, status: 'subscribed' },
    fields: { Shopper: { Code: `CODE${i}`, Expires: '2027-03-15' } },
  }));
const html = (source: string): TemplatePart[] => [{ field: 'html', source }];

/** Loops counted by liquidjs: stopped cooperatively at the budget. */
const LOOPING = '{% for i in (1..5000) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}';
/** One output node of 80 sorts of a 327,680-element array (seconds): liquidjs checks its time limit only between nodes. */
const BLOCKING = `{% assign s = "abcdefghij" %}{% for i in (1..15) %}{% assign s = s | append: s %}{% endfor %}{% assign a = s | split: "" %}{{ a ${'| sort | reverse '.repeat(40)}| size }}`;

describe('render pool', () => {
  const pool = createRenderPool({ threads: 2, budgetMs: 200, sliceSize: 3 });
  afterAll(() => pool.close());

  it('renders like the renderer on this thread, in order, across slices', async () => {
    const parts: TemplatePart[] = [
      { field: 'subject', source: 'Hi {{ contact.email }}' },
      { field: 'html', source: '<b>{{ Shopper.Code }}</b> until {{ Shopper.Expires | date: "%m/%d/%Y" }}' },
    ];
    const job = { timeZone: 'America/New_York', parts, contexts: contexts(10) };
    const local = createRenderer({ timeZone: 'America/New_York' });
    const outcomes = await pool.render('acct', job);
    expect(outcomes).toEqual(job.contexts.map((c) => ({ ok: true, rendered: local.render(parts, c) })));
  });

  it('a message over its budget fails for the contacts it timed out on, then for the rest without rendering', async () => {
    const one = createRenderPool({ threads: 1, budgetMs: 100, sliceSize: 50 });
    const outcomes = await one.render('acct', { timeZone: 'UTC', parts: html(LOOPING), contexts: contexts(10) }).finally(() => one.close());
    expect(outcomes.every((o) => !o.ok && o.error.reason === 'time_limit')).toBe(true);
    const messages = outcomes.map((o) => (o.ok ? '' : o.error.message));
    expect(messages.slice(0, 3).every((m) => /longer than 100 ms/.test(m))).toBe(true);
    expect(messages.slice(3).every((m) => /^not rendered: the message exceeded its 100 ms render budget for 3 contacts/.test(m))).toBe(
      true,
    );
  });

  it('a render that blocks its thread is stopped by replacing the thread; the slice is rendered again around it', async () => {
    // The message below comes from the watchdog only: liquidjs' own limit did not stop the render.
    const mixed = [...contexts(3)];
    const job = {
      timeZone: 'UTC',
      parts: html(`{% if contact.id == "c1" %}${BLOCKING}{% else %}ok {{ contact.id }}{% endif %}`),
      contexts: mixed,
    };
    const outcomes = await pool.render('acct', job);
    expect(outcomes[0]).toEqual({ ok: true, rendered: { subject: '', html: 'ok c0', text: '' } });
    expect(outcomes[1]).toMatchObject({
      ok: false,
      error: { reason: 'time_limit', message: 'rendering blocked for longer than 200 ms and was stopped' },
    });
    expect(outcomes[2]).toEqual({ ok: true, rendered: { subject: '', html: 'ok c2', text: '' } });
    // The pool goes on with a fresh thread.
    expect(await pool.render('acct', { timeZone: 'UTC', parts: html('fine'), contexts: contexts(1) })).toEqual([
      { ok: true, rendered: { subject: '', html: 'fine', text: '' } },
    ]);
  });

  it("one account's slow job never holds every thread: another account's job is served first", async () => {
    const fair = createRenderPool({ threads: 2, budgetMs: 150, sliceSize: 1, giveUpAfter: 0 });
    try {
      const order: string[] = [];
      const slow = fair.render('slow', { timeZone: 'UTC', parts: html(LOOPING), contexts: contexts(8) }).then(() => order.push('slow'));
      while (fair.load().running === 0) await new Promise((r) => setTimeout(r, 5));
      const quick = fair.render('quick', { timeZone: 'UTC', parts: html('hi {{ contact.id }}'), contexts: contexts(2) }).then((o) => {
        order.push('quick');
        return o;
      });
      expect((await quick).map((o) => o.ok)).toEqual([true, true]);
      await slow;
      expect(order).toEqual(['quick', 'slow']);
    } finally {
      await fair.close();
    }
  });
});

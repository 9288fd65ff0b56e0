import { beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { describeEachEngine, TEST_DATABASE_URL } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { api, assignStep } from './setup.ts';

/** The API's answers, read loosely (nested steps). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * "Branches and waits" (docs/ARCHITECTURE.md), the rest of issue 17's list (branches.test.ts has the others): a
 * split on the coupon source of an earlier step, nested splits read back path by path, publish
 * refusing a path without its coupon filler through the API, and the order event arriving while
 * the batch that times its wait out holds the run. Both engines, the injected clock.
 */
describeEachEngine('conductor branches: coupon sources, nesting, publish, the wait race', (ctx) => {
  const { app, t } = useTenant(ctx);
  let a: ReturnType<typeof api>;
  beforeAll(() => {
    a = api(app, t);
  });

  const assign = (poolId: string, codeField: string, name: string, whenNoCode: 'exit' | 'continue' = 'exit') =>
    assignStep(t.merchantId, poolId, codeField, name, whenNoCode);
  const mail = (name: string, messageId: string) => ({ type: 'message', name, messageId });
  const subjects = async (email: string) => (await a.mailsTo(email)).map((m) => m.subject).sort();
  /** A run's journey as `<path> <outcome>` lines and the branch names it took. */
  const journey = (run: Json) => run.steps.map((s: { path: string; outcome: string }) => `${s.path} ${s.outcome}`);
  const branchNames = (run: Json) => run.steps.filter((s: { branch?: string }) => s.branch).map((s: { branch: string }) => s.branch);
  async function runOf(conversationId: string, email: string): Promise<Json> {
    const contact = await a.call('GET', `/v1/contacts?email=${encodeURIComponent(email)}`, undefined, 200);
    const run = (await a.enrollments(conversationId)).find((r: { contactId: string }) => r.contactId === contact.id);
    expect(run, `a run of ${email}`).toBeDefined();
    return run;
  }

  for (const delayed of [false, true]) {
    it(`a split on {coupon, is} over an earlier assign step: unique, default and none each take their branch${
      delayed ? ' (the step ran in an earlier batch)' : ' (the step ran in the same batch)'
    }`, async () => {
      app.clock.set(delayed ? '2026-06-02T10:00:00Z' : '2026-06-01T10:00:00Z');
      const pool = await a.pool();
      await a.upload(pool.id, 'ONLY-1\n', { expiration: 'none' });
      const { code } = await a.couponFields();
      const unique = await a.message(`<p>code ${code.snippet}</p>`, 'Unique');
      const fallback = await a.message(`<p>code ${code.snippet}</p>`, 'Default');
      const none = await a.message('<p>sorry, none left</p>', 'None');
      const otherwise = await a.message('<p>never</p>', 'Otherwise');
      const event = `coupon_source_${delayed}`;
      const first: Json = await a.conversation({ trigger: { event }, steps: [assign(pool.id, code.id, 'Code', 'continue')] });
      const codeStep = first.steps[0].id;
      const edited: Json = await a.call(
        'PUT',
        `/v1/conversations/${first.id}`,
        {
          name: first.name,
          trigger: { event },
          steps: [
            { id: codeStep, ...assign(pool.id, code.id, 'Code', 'continue') },
            ...(delayed ? [{ type: 'delay', name: 'An hour', duration: 'PT1H' }] : []),
            {
              type: 'split',
              name: 'Which code?',
              branches: [
                { name: 'Unique', condition: { coupon: codeStep, is: 'unique' }, steps: [mail('Unique mail', unique.id)] },
                { name: 'Default', condition: { coupon: codeStep, is: 'default' }, steps: [mail('Default mail', fallback.id)] },
                { name: 'None', condition: { coupon: codeStep, is: 'none' }, steps: [mail('None mail', none.id)] },
              ],
              otherwise: { steps: [mail('Otherwise mail', otherwise.id)] },
            },
          ],
        },
        200,
      );
      await a.commit(edited);
      await a.publish(first.id);
      const go = async () => {
        await app.services.engine.runDue();
        if (delayed) {
          app.clock.advance(3600_000);
          await app.services.engine.runDue();
        }
      };
      const tag = first.id.slice(-6);
      const [ann, bob, cat] = ['ann', 'bob', 'cat'].map((n) => `${n}-${tag}@example.com`);
      // ann: the pool's one unique code. bob: none left and no default code yet.
      await a.event(event, ann!);
      await go();
      await a.event(event, bob!);
      await go();
      // cat: the pool now has a default code.
      await a.call('PATCH', `/v1/pools/${pool.id}`, { defaultCode: 'SORRY10' }, 200);
      await a.event(event, cat!);
      await go();

      expect((await a.mailsTo(ann!)).map((m) => [m.subject, m.html.split('\n')[0]])).toEqual([['Unique', '<p>code ONLY-1</p>']]);
      expect(await subjects(bob!)).toEqual(['None']);
      expect((await a.mailsTo(cat!)).map((m) => [m.subject, m.html.split('\n')[0]])).toEqual([['Default', '<p>code SORRY10</p>']]);
      const split = delayed ? 'steps.2' : 'steps.1';
      const outcomes = { [ann!]: 'assigned', [bob!]: 'no_code', [cat!]: 'default_code' };
      const taken = { [ann!]: 0, [bob!]: 2, [cat!]: 1 };
      for (const who of [ann!, bob!, cat!]) {
        const run = await runOf(first.id, who);
        expect(run.status).toBe('completed');
        expect(journey(run)).toEqual([
          `steps.0 ${outcomes[who]}`,
          ...(delayed ? ['steps.1 waited'] : []),
          `${split} branch`,
          `${split}.branches.${taken[who]}.steps.0 sent`,
        ]);
        expect(branchNames(run)).toEqual([['Unique', 'Default', 'None'][taken[who]!]]);
      }
      const counts = (await a.call('GET', `/v1/conversations/${first.id}`, undefined, 200)).stepCounts;
      const splitStep = edited.steps[delayed ? 2 : 1];
      expect(counts[splitStep.id]).toMatchObject({
        entered: 3,
        completed: 3,
        branches: { 'branches.0': 1, 'branches.1': 1, 'branches.2': 1, otherwise: 0 },
      });
      // A step no run reached answers zeros (every step of every branch has its counts).
      expect(counts[splitStep.otherwise.steps[0].id]!.entered).toBe(0);
    });
  }

  it('a split on {coupon, is: "static"} tells a static pool’s code from a unique one', async () => {
    app.clock.set('2026-06-03T10:00:00Z');
    const shared = await a.pool({ type: 'static' });
    await a.call(
      'PUT',
      `/v1/pools/${shared.id}/static-codes`,
      { rows: [{ code: 'SUMMER', expiresOn: '2026-12-31', beginDistribution: '2026-06-01', endDistribution: '2026-08-31' }] },
      200,
    );
    const { code } = await a.couponFields();
    const yes = await a.message(`<p>static ${code.snippet}</p>`, 'Static');
    const no = await a.message(`<p>other ${code.snippet}</p>`, 'Not static');
    const first: Json = await a.conversation({ trigger: { event: 'static_source' }, steps: [assign(shared.id, code.id, 'Shared code')] });
    const codeStep = first.steps[0].id;
    const edited: Json = await a.call(
      'PUT',
      `/v1/conversations/${first.id}`,
      {
        name: first.name,
        trigger: { event: 'static_source' },
        steps: [
          { id: codeStep, ...assign(shared.id, code.id, 'Shared code') },
          {
            type: 'split',
            name: 'Shared?',
            branches: [
              { name: 'Unique', condition: { coupon: codeStep, is: 'unique' }, steps: [mail('Unique mail', no.id)] },
              { name: 'Static', condition: { coupon: codeStep, is: 'static' }, steps: [mail('Static mail', yes.id)] },
            ],
            otherwise: { steps: [mail('Otherwise mail', no.id)] },
          },
        ],
      },
      200,
    );
    await a.commit(edited);
    await a.publish(first.id);
    await a.event('static_source', 'shared@example.com');
    await app.services.engine.runDue();
    expect((await a.mailsTo('shared@example.com')).map((m) => [m.subject, m.html.split('\n')[0]])).toEqual([
      ['Static', '<p>static SUMMER</p>'],
    ]);
    expect(branchNames(await runOf(first.id, 'shared@example.com'))).toEqual(['Static']);
  });

  it('a split on a trigger property nested in a split on the coupon source: each leaf path taken, the path read back', async () => {
    app.clock.set('2026-06-04T10:00:00Z');
    const pool = await a.pool();
    await a.upload(pool.id, 'N-1\nN-2\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const gold = await a.message(`<p>gold ${code.snippet}</p>`, 'Gold');
    const plain = await a.message(`<p>plain ${code.snippet}</p>`, 'Plain');
    const sorry = await a.message('<p>sorry</p>', 'Sorry');
    const first: Json = await a.conversation({
      trigger: { event: 'nested_source' },
      steps: [assign(pool.id, code.id, 'Code', 'continue')],
    });
    const codeStep = first.steps[0].id;
    const edited: Json = await a.call(
      'PUT',
      `/v1/conversations/${first.id}`,
      {
        name: first.name,
        trigger: { event: 'nested_source' },
        steps: [
          { id: codeStep, ...assign(pool.id, code.id, 'Code', 'continue') },
          {
            type: 'split',
            name: 'Got a code?',
            branches: [
              {
                name: 'Coded',
                condition: { not: { coupon: codeStep, is: 'none' } },
                steps: [
                  {
                    type: 'split',
                    name: 'Tier',
                    branches: [
                      {
                        name: 'Gold',
                        condition: { event: 'properties.tier', op: 'eq', value: 'gold' },
                        steps: [mail('Gold mail', gold.id)],
                      },
                    ],
                    otherwise: { steps: [mail('Plain mail', plain.id)] },
                  },
                ],
              },
            ],
            otherwise: { steps: [mail('Sorry mail', sorry.id)] },
          },
        ],
      },
      200,
    );
    await a.commit(edited);
    await a.publish(first.id);
    await a.event('nested_source', 'goldie@example.com', { properties: { tier: 'gold' } });
    await a.event('nested_source', 'silver@example.com', { properties: { tier: 'silver' } });
    await app.services.engine.runDue();
    // The pool's two codes are gone: a gold buyer without a code takes the outer otherwise.
    await a.event('nested_source', 'lategold@example.com', { properties: { tier: 'gold' } });
    await app.services.engine.runDue();

    expect(await subjects('goldie@example.com')).toEqual(['Gold']);
    expect(await subjects('silver@example.com')).toEqual(['Plain']);
    expect(await subjects('lategold@example.com')).toEqual(['Sorry']);
    const goldie = await runOf(first.id, 'goldie@example.com');
    expect(journey(goldie)).toEqual([
      'steps.0 assigned',
      'steps.1 branch',
      'steps.1.branches.0.steps.0 branch',
      'steps.1.branches.0.steps.0.branches.0.steps.0 sent',
    ]);
    expect(branchNames(goldie)).toEqual(['Coded', 'Gold']);
    const silver = await runOf(first.id, 'silver@example.com');
    expect(journey(silver)).toEqual([
      'steps.0 assigned',
      'steps.1 branch',
      'steps.1.branches.0.steps.0 branch',
      'steps.1.branches.0.steps.0.otherwise.steps.0 sent',
    ]);
    expect(branchNames(silver)).toEqual(['Coded', 'otherwise']);
    const late = await runOf(first.id, 'lategold@example.com');
    expect(journey(late)).toEqual(['steps.0 no_code', 'steps.1 branch', 'steps.1.otherwise.steps.0 sent']);
    const counts = (await a.call('GET', `/v1/conversations/${first.id}`, undefined, 200)).stepCounts;
    const inner = edited.steps[1].branches[0].steps[0];
    expect(counts[edited.steps[1].id]).toMatchObject({ entered: 3, branches: { 'branches.0': 2, otherwise: 1 } });
    expect(counts[inner.id]).toMatchObject({ entered: 2, completed: 2, branches: { 'branches.0': 1, otherwise: 1 } });
    expect(counts[inner.branches[0].steps[0].id]).toMatchObject({ entered: 1, messagesSent: 1 });
    expect(counts[inner.otherwise.steps[0].id]).toMatchObject({ entered: 1, messagesSent: 1 });
  });

  it('splits nested three deep: every leaf path taken, a step after the inner split runs before the run goes on, paths read back', async () => {
    app.clock.set('2026-06-05T10:00:00Z');
    const pools: Record<string, { id: string }> = {};
    for (const p of ['P20', 'P15', 'P10', 'P05']) {
      pools[p] = await a.pool();
      await a.upload(pools[p]!.id, `${p}-A\n${p}-B\n`, { expiration: 'none' });
    }
    const { group, code } = await a.couponFields();
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Cart', type: 'number' }, 201);
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Member', type: 'boolean' }, 201);
    const message = await a.message(`<p>code ${code.snippet}</p>`);
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'deep' },
        steps: [
          {
            type: 'split',
            name: 'Cart',
            branches: [
              {
                name: 'Big',
                condition: { field: `${group.name}.Cart`, op: 'gt', value: 100 },
                steps: [
                  {
                    type: 'split',
                    name: 'Tier',
                    branches: [
                      {
                        name: 'Gold',
                        condition: { event: 'properties.tier', op: 'eq', value: 'gold' },
                        steps: [
                          {
                            type: 'split',
                            name: 'Member?',
                            branches: [
                              {
                                name: 'Member',
                                condition: { field: `${group.name}.Member`, op: 'eq', value: true },
                                steps: [assign(pools.P20!.id, code.id, 'Member gold code')],
                              },
                            ],
                            otherwise: { steps: [assign(pools.P15!.id, code.id, 'Gold code')] },
                          },
                        ],
                      },
                    ],
                    otherwise: { steps: [assign(pools.P10!.id, code.id, 'Big code')] },
                  },
                  { type: 'delay', name: 'Big wait', duration: 'PT1H' },
                ],
              },
            ],
            otherwise: { steps: [assign(pools.P05!.id, code.id, 'Small code')] },
          },
          mail('Mail', message.id),
        ],
      }),
    );
    await a.publish(conv.id);
    const who = {
      member: { cart: 150, member: true, tier: 'gold', code: 'P20-A' },
      gold: { cart: 150, member: false, tier: 'gold', code: 'P15-A' },
      big: { cart: 150, member: true, tier: 'silver', code: 'P10-A' },
      small: { cart: 20, member: true, tier: 'gold', code: 'P05-A' },
    };
    for (const [name, c] of Object.entries(who)) {
      const email = `deep-${name}@example.com`;
      await a.call('PUT', '/v1/contacts', { email, fields: { [group.name]: { Cart: c.cart, Member: c.member } } }, 200);
      await a.event('deep', email, { properties: { tier: c.tier } });
    }
    await app.services.engine.runDue();
    const codes = async (name: string) => (await a.mailsTo(`deep-${name}@example.com`)).map((m) => /code (P\d\d-[AB])/.exec(m.html)?.[1]);
    // The small cart's path has no delay; the big carts wait an hour inside their branch.
    expect(await codes('small')).toEqual(['P05-A']);
    for (const name of ['member', 'gold', 'big']) {
      expect(await codes(name)).toEqual([]);
      expect(await runOf(conv.id, `deep-${name}@example.com`)).toMatchObject({ status: 'active', position: 'steps.0.branches.0.steps.1' });
    }
    app.clock.advance(3600_000);
    await app.services.engine.runDue();
    for (const [name, c] of Object.entries(who)) expect(await codes(name), name).toEqual([c.code]);

    const cart = 'steps.0';
    const tier = `${cart}.branches.0.steps.0`;
    const member = `${tier}.branches.0.steps.0`;
    const tail = [`${cart}.branches.0.steps.1 waited`, 'steps.1 sent'];
    const expected: Record<string, { path: string[]; branches: string[] }> = {
      member: {
        path: [`${cart} branch`, `${tier} branch`, `${member} branch`, `${member}.branches.0.steps.0 assigned`, ...tail],
        branches: ['Big', 'Gold', 'Member'],
      },
      gold: {
        path: [`${cart} branch`, `${tier} branch`, `${member} branch`, `${member}.otherwise.steps.0 assigned`, ...tail],
        branches: ['Big', 'Gold', 'otherwise'],
      },
      big: { path: [`${cart} branch`, `${tier} branch`, `${tier}.otherwise.steps.0 assigned`, ...tail], branches: ['Big', 'otherwise'] },
      small: { path: [`${cart} branch`, `${cart}.otherwise.steps.0 assigned`, 'steps.1 sent'], branches: ['otherwise'] },
    };
    for (const [name, e] of Object.entries(expected)) {
      const run = await runOf(conv.id, `deep-${name}@example.com`);
      expect(run.status, name).toBe('completed');
      expect(journey(run), name).toEqual(e.path);
      expect(branchNames(run), name).toEqual(e.branches);
    }
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    const tierStep = conv.steps[0].branches[0].steps[0];
    const memberStep = tierStep.branches[0].steps[0];
    expect(counts[conv.steps[0].id]).toMatchObject({ entered: 4, branches: { 'branches.0': 3, otherwise: 1 } });
    expect(counts[tierStep.id]).toMatchObject({ entered: 3, branches: { 'branches.0': 2, otherwise: 1 } });
    expect(counts[memberStep.id]).toMatchObject({ entered: 2, branches: { 'branches.0': 1, otherwise: 1 } });
    expect(counts[memberStep.branches[0].steps[0].id]).toMatchObject({ entered: 1, codesAssigned: 1 });
    expect(counts[memberStep.otherwise.steps[0].id]).toMatchObject({ entered: 1, codesAssigned: 1 });
    expect(counts[tierStep.otherwise.steps[0].id]).toMatchObject({ entered: 1, codesAssigned: 1 });
    expect(counts[conv.steps[0].branches[0].steps[1].id]).toMatchObject({ entered: 3, completed: 3, waiting: 0 });
    expect(counts[conv.steps[1].id]).toMatchObject({ entered: 4, messagesSent: 4 });
  });

  it('publish (the API) refuses a message reachable on one path without its coupon filler and names that path; filled, it publishes', async () => {
    const p10 = await a.pool();
    const p15 = await a.pool();
    const { group, code } = await a.couponFields();
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Cart', type: 'number' }, 201);
    const message = await a.message(`<p>code ${code.snippet}</p>`);
    const tree = (otherwise: object[]) => [
      {
        type: 'split',
        name: 'Cart value',
        branches: [
          { name: 'Over 100', condition: { field: `${group.name}.Cart`, op: 'gt', value: 100 }, steps: [assign(p15.id, code.id, 'Big')] },
        ],
        otherwise: { steps: otherwise },
      },
      mail('Mail', message.id),
    ];
    const conv: Json = await a.commit(await a.conversation({ trigger: { event: 'refused' }, steps: tree([]) }));
    const res = await app.http.inject({ method: 'POST', url: `/v1/conversations/${conv.id}/publish`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().error.code).toBe('publish_refused');
    expect(res.json().error.details).toEqual([
      {
        stepId: conv.steps[1].id,
        path: 'steps.1',
        field: 'message',
        message: expect.stringContaining('no earlier "assign coupon" step fills it on the path "Cart value" → otherwise'),
        route: 'the path "Cart value" → otherwise',
      },
    ]);
    expect((await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).status).toBe('draft');
    const check = await a.call('POST', `/v1/conversations/${conv.id}/check`, undefined, 200);
    expect(check).toMatchObject({ valid: false, errors: [{ path: 'steps.1', route: 'the path "Cart value" → otherwise' }] });

    const draft: Json = await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200);
    await a.call(
      'PUT',
      `/v1/conversations/${conv.id}`,
      {
        name: draft.name,
        trigger: { event: 'refused' },
        steps: [{ ...draft.steps[0], otherwise: { steps: [assign(p10.id, code.id, 'Small')] } }, draft.steps[1]],
      },
      200,
    );
    expect(await a.publish(conv.id)).toMatchObject({ version: 1 });
  });

  it('runs inside a branch of version 1 finish that branch on version 1 when version 2 puts a new branch first', async () => {
    app.clock.set('2026-06-07T10:00:00Z');
    const pools: Record<string, { id: string }> = {};
    for (const p of ['P15', 'P10', 'P50']) {
      pools[p] = await a.pool();
      await a.upload(pools[p]!.id, `${p}-A\n${p}-B\n`, { expiration: 'none' });
    }
    const { group, code } = await a.couponFields();
    await a.call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Cart', type: 'number' }, 201);
    const message = await a.message(`<p>code ${code.snippet}</p>`);
    const cart = (op: string, value: number) => ({ field: `${group.name}.Cart`, op, value });
    const wait = { type: 'delay', name: 'An hour', duration: 'PT1H' };
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'rebranched' },
        steps: [
          {
            type: 'split',
            name: 'Cart value',
            branches: [{ name: 'Over 100', condition: cart('gt', 100), steps: [wait, assign(pools.P15!.id, code.id, 'Big code')] }],
            otherwise: { steps: [wait, assign(pools.P10!.id, code.id, 'Small code')] },
          },
          mail('Mail', message.id),
        ],
      }),
    );
    await a.publish(conv.id);
    await a.call('PUT', '/v1/contacts', { email: 'v1-big@example.com', fields: { [group.name]: { Cart: 5000 } } }, 200);
    await a.call('PUT', '/v1/contacts', { email: 'v2-big@example.com', fields: { [group.name]: { Cart: 5000 } } }, 200);
    await a.event('rebranched', 'v1-big@example.com');
    await app.services.engine.runDue();
    expect(await runOf(conv.id, 'v1-big@example.com')).toMatchObject({ status: 'active', position: 'steps.0.branches.0.steps.0' });

    // Version 2: a new first branch (over 1000, the 50% pool) where the run's place was.
    const draft: Json = await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200);
    const split = draft.steps[0];
    await a.call(
      'PUT',
      `/v1/conversations/${conv.id}`,
      {
        name: draft.name,
        trigger: { event: 'rebranched' },
        steps: [
          {
            ...split,
            branches: [
              { name: 'Over 1000', condition: cart('gt', 1000), steps: [wait, assign(pools.P50!.id, code.id, 'Huge code')] },
              ...split.branches,
            ],
          },
          draft.steps[1],
        ],
      },
      200,
    );
    expect((await a.publish(conv.id)).version).toBe(2);
    await a.event('rebranched', 'v2-big@example.com');
    await app.services.engine.runDue();
    app.clock.advance(3600_000);
    await app.services.engine.runDue();

    const codes = async (email: string) => (await a.mailsTo(email)).map((m) => /code (P\d\d-[AB])/.exec(m.html)?.[1]);
    expect(await codes('v1-big@example.com')).toEqual(['P15-A']);
    expect(await codes('v2-big@example.com')).toEqual(['P50-A']);
    const v1 = await runOf(conv.id, 'v1-big@example.com');
    expect(v1).toMatchObject({ version: 1, status: 'completed' });
    expect(journey(v1)).toEqual([
      'steps.0 branch',
      'steps.0.branches.0.steps.0 waited',
      'steps.0.branches.0.steps.1 assigned',
      'steps.1 sent',
    ]);
    expect(branchNames(v1)).toEqual(['Over 100']);
    const v2 = await runOf(conv.id, 'v2-big@example.com');
    expect(v2).toMatchObject({ version: 2, status: 'completed' });
    expect(branchNames(v2)).toEqual(['Over 1000']);
  });

  it('the frequency cap counts mail sent in earlier batches: the fourth mail within a week is capped, one after the week is sent', async () => {
    app.clock.set('2026-07-01T10:00:00Z');
    await a.call('PUT', '/v1/conductor/settings', { frequencyCap: { messages: 3, perDays: 7 } }, 200);
    try {
      const message = await a.message('<p>news</p>', 'News');
      const twoDays = (i: number) => ({ type: 'delay', name: `Two days ${i}`, duration: 'P2D' });
      // Mails on days 0, 2, 4, 6 (capped: three in the last seven days) and 8 (day 0's mail has left the week).
      const conv: Json = await a.commit(
        await a.conversation({
          trigger: { event: 'weekly' },
          steps: [1, 2, 3, 4, 5].flatMap((i) => [...(i > 1 ? [twoDays(i)] : []), mail(`Mail ${i}`, message.id)]),
        }),
      );
      await a.publish(conv.id);
      await a.event('weekly', 'reader@example.com');
      const sent: number[] = [];
      for (let day = 0; day <= 8; day += 2) {
        if (day > 0) app.clock.advance(2 * 86_400_000);
        await app.services.engine.runDue();
        sent.push((await a.mailsTo('reader@example.com')).length);
      }
      expect(sent).toEqual([1, 2, 3, 3, 4]);
      const run = await runOf(conv.id, 'reader@example.com');
      expect(run.status).toBe('completed');
      expect(run.steps.filter((s: { outcome: string }) => s.outcome !== 'waited').map((s: { outcome: string }) => s.outcome)).toEqual([
        'sent',
        'sent',
        'sent',
        'capped',
        'sent',
      ]);
    } finally {
      await a.call('PUT', '/v1/conductor/settings', { frequencyCap: null }, 200);
    }
  });

  it('the order arriving while the batch that times the wait out holds the run: one branch (timed out), the wake changes nothing', async () => {
    app.clock.set('2026-06-06T10:00:00Z');
    const pool = await a.pool();
    await a.upload(pool.id, 'R-1\nR-2\n', { expiration: 'none' });
    const { code } = await a.couponFields();
    const thanks = await a.message('<p>thanks</p>', 'Thanks');
    const reminder = await a.message(`<p>code ${code.snippet}</p>`, 'Reminder');
    const followUp = await a.message('<p>still there?</p>', 'Follow-up');
    const conv: Json = await a.commit(
      await a.conversation({
        trigger: { event: 'race_browse' },
        steps: [
          {
            type: 'waitForEvent',
            name: 'Wait for the order',
            event: 'race_order',
            within: 'PT1H',
            received: { steps: [mail('Thanks', thanks.id)] },
            timedOut: { steps: [assign(pool.id, code.id, 'Reminder code'), mail('Reminder', reminder.id)] },
          },
          { type: 'delay', name: 'A day', duration: 'P1D' },
          mail('Follow-up', followUp.id),
        ],
      }),
    );
    await a.publish(conv.id);
    const email = 'racer@example.com';
    await a.event('race_browse', email);
    await app.services.engine.runDue();
    expect(await runOf(conv.id, email)).toMatchObject({ status: 'active', position: 'steps.0' });

    // Past the timeout: the batch takes the run, times its wait out and stops inside the timedOut
    // branch (at its code), holding the run, while the order event comes in.
    app.clock.advance(2 * 3600_000);
    const assignments = app.services.assignments;
    const original = assignments.assignWithin;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const inBatch = new Promise<void>((resolve) => (reached = resolve));
    assignments.assignWithin = async (...args) => {
      reached();
      await gate;
      return original(...args);
    };
    let event: Promise<unknown>;
    try {
      const batch = app.services.engine.runDue();
      await inBatch;
      event = a.event('race_order', email);
      if (ctx.engine === 'postgres') await blockedOnTheBatch(ctx.schema);
      release();
      await batch;
    } finally {
      assignments.assignWithin = original;
      release();
    }
    await event;
    await app.services.engine.runDue();

    expect(await subjects(email)).toEqual(['Reminder']);
    const run = await runOf(conv.id, email);
    expect(run).toMatchObject({ status: 'active', position: 'steps.1', nextDueAt: '2026-06-07T12:00:00.000Z' });
    expect(journey(run)).toEqual(['steps.0 timed_out', 'steps.0.timedOut.steps.0 assigned', 'steps.0.timedOut.steps.1 sent']);
    app.clock.advance(86_400_000);
    await app.services.engine.runDue();
    expect(await subjects(email)).toEqual(['Follow-up', 'Reminder']);
    const done = await runOf(conv.id, email);
    expect(done.status).toBe('completed');
    expect(done.steps.filter((s: { stepId: string }) => s.stepId === conv.steps[0].id)).toHaveLength(1);
    const counts = (await a.call('GET', `/v1/conversations/${conv.id}`, undefined, 200)).stepCounts;
    expect(counts[conv.steps[0].id]).toMatchObject({ entered: 1, waiting: 0, branches: { received: 0, timedOut: 1 } });
  });
});

/**
 * PostgreSQL: waits until some session waits for a row lock on a table of `schema` (the event's
 * transaction, behind the batch). PGlite has one connection: the event simply queues behind the
 * batch's transaction.
 */
async function blockedOnTheBatch(schema: string) {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await admin.query(
        `select 1 from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
         where l.locktype = 'tuple' and n.nspname = $1`,
        [schema],
      );
      if (r.rowCount) return;
      if (Date.now() > deadline) throw new Error('the event never waited for the batch');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await admin.end();
  }
}

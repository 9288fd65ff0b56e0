import { describe, expect, it } from 'vitest';
import {
  after,
  applyEdit,
  checkForPublish,
  conversationInput,
  evaluate,
  into,
  nextWindowOpening,
  start,
  type CommittedMessage,
  type PublishCatalog,
} from '../../src/modules/conductor/model.ts';

/** The pure model of "Branches and waits" (docs/ARCHITECTURE.md): the tree, its paths, the publish check on every path, windows. */
const assign = (poolId: string) => ({
  type: 'action',
  name: `Assign ${poolId}`,
  action: { type: 'assignCoupon', merchantId: 'm', poolId, saveCodeTo: 'code' },
});
const committed: CommittedMessage = {
  messageId: 'msg',
  committedAt: '2026-01-01T00:00:00Z',
  name: 'Mail',
  fromName: 'Shop',
  fromEmail: 'shop@example.com',
  subject: 'Your code',
  html: '{{ Shop.Code }}',
  text: null,
};
const catalog: PublishCatalog = {
  pools: new Map([
    ['p10', { merchantId: 'm', name: '10%' }],
    ['p15', { merchantId: 'm', name: '15%' }],
  ]),
  fields: new Map([
    ['code', { group: 'Shop', name: 'Code', type: 'text' as const }],
    ['cart', { group: 'Shop', name: 'Cart', type: 'number' as const }],
  ]),
  messages: new Set(['msg']),
  templateProblems: () => [],
  fieldsUsed: () => new Set(['code']),
  couponFieldsElsewhere: new Set(),
};
function documentOf(steps: unknown[]) {
  let n = 0;
  const doc = applyEdit(undefined, conversationInput.parse({ name: 'x', trigger: { event: 'cart' }, steps }), () => `s${n++}`);
  const commit = (list: typeof doc.steps): void =>
    list.forEach((s) => {
      if (s.type === 'message') s.committed = committed;
      if (s.type === 'split') [...s.branches.map((b) => b.steps), s.otherwise.steps].forEach(commit);
      if (s.type === 'waitForEvent') [s.received.steps, s.timedOut.steps].forEach(commit);
    });
  commit(doc.steps);
  return doc;
}
const cartSplit = (otherwise: unknown[]) => ({
  type: 'split',
  name: 'Cart value',
  branches: [{ name: 'Over 100', condition: { field: 'Shop.Cart', op: 'gt', value: 100 }, steps: [assign('p15')] }],
  otherwise: { steps: otherwise },
});

describe('the conversation tree', () => {
  it('paths: into a branch, on after it, out of an empty branch, done at the end', () => {
    const doc = documentOf([cartSplit([]), { type: 'message', name: 'Mail', messageId: 'msg' }]);
    expect(start(doc)).toBe('steps.0');
    expect(into(doc, 'steps.0', 'branches.0')).toBe('steps.0.branches.0.steps.0');
    expect(after(doc, 'steps.0.branches.0.steps.0')).toBe('steps.1');
    expect(into(doc, 'steps.0', 'otherwise')).toBe('steps.1');
    expect(after(doc, 'steps.1')).toBeNull();
    expect(new Set(['s0', 's1', 's2'])).toEqual(
      new Set([
        doc.steps[0]!.id,
        (doc.steps[0] as { branches: { steps: { id: string }[] }[] }).branches[0]!.steps[0]!.id,
        doc.steps[1]!.id,
      ]),
    );
  });

  it('refuses nesting deeper than 5 levels', () => {
    const nest = (depth: number): unknown =>
      depth === 0
        ? { type: 'delay', name: 'Wait', duration: 'PT1H' }
        : { type: 'waitForEvent', name: `W${depth}`, event: 'order', within: 'P1D', received: { steps: [nest(depth - 1)] } };
    expect(conversationInput.safeParse({ name: 'x', trigger: { event: 'e' }, steps: [nest(5)] }).success).toBe(true);
    expect(conversationInput.safeParse({ name: 'x', trigger: { event: 'e' }, steps: [nest(6)] }).success).toBe(false);
  });
});

describe('the publish check on every path', () => {
  it('refuses a message reachable on one path without its filler and names that path', () => {
    const doc = documentOf([cartSplit([]), { type: 'message', name: 'Mail', messageId: 'msg' }]);
    const { errors } = checkForPublish(doc, catalog);
    expect(errors).toEqual([
      {
        stepId: doc.steps[1]!.id,
        path: 'steps.1',
        field: 'message',
        message: expect.stringContaining('no earlier "assign coupon" step fills it on the path "Cart value" → otherwise'),
        route: 'the path "Cart value" → otherwise',
      },
    ]);
    // Filled on both paths: published (no error, no warning: the filler is right before on each path).
    const both = documentOf([cartSplit([assign('p10')]), { type: 'message', name: 'Mail', messageId: 'msg' }]);
    expect(checkForPublish(both, catalog)).toEqual({ errors: [], warnings: [] });
  });

  it('checks conditions: the field exists, the op fits its type, coupon steps are assignCoupon steps', () => {
    const doc = documentOf([
      {
        type: 'split',
        name: 'S',
        branches: [
          { name: 'a', condition: { field: 'Shop.Nope', op: 'eq', value: 1 }, steps: [] },
          { name: 'b', condition: { field: 'Shop.Cart', op: 'contains', value: 'x' }, steps: [] },
          {
            name: 'c',
            condition: {
              all: [
                { coupon: 's9', is: 'unique' },
                { event: 'total', op: 'gt', value: 1 },
              ],
            },
            steps: [],
          },
        ],
      },
    ]);
    expect(checkForPublish(doc, catalog).errors.map((e) => [e.field, e.message])).toEqual([
      ['branches.0.condition', 'the field Shop.Nope does not exist'],
      ['branches.1.condition', 'Shop.Cart: contains reads text; this is a number field'],
      ['branches.2.condition', 'the condition names the step "s9", which does not exist'],
      ['branches.2.condition', '"total" is not an event property: write properties.<name>'],
    ]);
  });

  it('evaluates conditions: numbers from text, all/any/not, coupon sources', () => {
    const facts = { field: () => '150', property: () => 'gold', coupon: () => ({ source: 'default' as const, redeemed: false }) };
    expect(evaluate({ field: 'Shop.Cart', op: 'gt', value: 100 }, facts)).toBe(true);
    expect(evaluate({ not: { any: [{ event: 'properties.tier', op: 'eq', value: 'gold' }] } }, facts)).toBe(false);
    expect(evaluate({ coupon: 's1', is: 'default' }, facts)).toBe(true);
    expect(evaluate({ coupon: 's1', is: 'unique' }, facts)).toBe(false);
  });
});

describe('send windows', () => {
  it('22:00 in Berlin the night clocks go forward: 09:00 local the next morning (07:00 UTC)', () => {
    const w = { start: '09:00', end: '20:00' };
    expect(nextWindowOpening(w, new Date('2026-03-28T21:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-03-29T07:00:00.000Z');
    // Inside the window: now.
    expect(nextWindowOpening(w, new Date('2026-03-30T10:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2026-03-30T10:00:00.000Z');
    // Weekdays only: Saturday evening → Monday 09:00.
    expect(nextWindowOpening({ ...w, days: [1, 2, 3, 4, 5] }, new Date('2026-03-28T21:00:00Z'), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });
});

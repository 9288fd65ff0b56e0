import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

/**
 * The tree editor's controls (issue 17.4): conditions typed by the field they read, all/any/not,
 * nested splits and waits, moving a step into a branch, problems marked on a nested step with its
 * path, conditions that name a step not saved yet, the trigger filter, the send window and the cap.
 */
describe('console: the conversation tree editor', () => {
  let ids: { poolId: string; codeField: string };
  const { server, page, call } = useConsole({
    account: 'Tree Co',
    merchant: { name: 'Main shop', domain: 'shop.example.com' },
    async seed({ call, pool: newPool, message }) {
      const pool = await newPool('Welcome 10%');
      const group = await call('POST', '/v1/field-groups', { name: 'Shopper' });
      const code = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Code', type: 'text' });
      await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Orders', type: 'number' });
      await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'VIP', type: 'boolean' });
      await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Since', type: 'date' });
      await message('Code mail', 'Your code', `<p>${code.snippet}</p>`);
      ids = { poolId: pool.id, codeField: code.id };
    },
    pageTimeout: 20_000,
    signIn: { at: '#/conversations/new', ready: (page) => page.getByLabel('Conversation name') },
  });

  const options = (label: string) => page.getByLabel(label, { exact: true }).locator('option').allTextContents();

  it('offers the ops and the value input of the field a condition reads, and combines conditions with all/any/not', async () => {
    await page.getByLabel('Conversation name').fill('Tree');
    await page.getByRole('button', { name: 'Add split step' }).click();
    const c = 'Step 1 branch 1 condition';
    await page.getByLabel(`${c} kind`).selectOption({ label: 'Contact field' });
    await page.getByLabel(`${c} field`).selectOption({ label: 'Shopper.Orders (number)' });
    expect(await options(`${c} op`)).toEqual([
      'is',
      'is not',
      'is greater than',
      'is at least',
      'is less than',
      'is at most',
      'is set',
      'is not set',
    ]);
    expect(await page.getByLabel(`${c} value`, { exact: true }).getAttribute('type')).toBe('number');
    await page.getByLabel(`${c} field`).selectOption({ label: 'Shopper.Code (text)' });
    expect(await options(`${c} op`)).toEqual(['is', 'is not', 'contains', 'is set', 'is not set']);
    await page.getByLabel(`${c} field`).selectOption({ label: 'Shopper.VIP (boolean)' });
    expect(await options(`${c} value`)).toEqual(['yes', 'no']);
    await page.getByLabel(`${c} field`).selectOption({ label: 'Shopper.Since (date)' });
    expect(await page.getByLabel(`${c} value`, { exact: true }).getAttribute('type')).toBe('date');
    await page.getByLabel(`${c} op`).selectOption({ label: 'is after' });
    await page.getByLabel(`${c} value`, { exact: true }).fill('2026-01-31');
    await page.getByLabel(`${c} op`).selectOption({ label: 'is set' });
    expect(await page.getByLabel(`${c} value`, { exact: true }).count()).toBe(0);

    // "All of" keeps the condition there was as its first part; a second part is added, then negated.
    await page.getByLabel(`${c} kind`).selectOption({ label: 'All of (and)' });
    expect(await page.getByLabel(`${c} 1 field`).inputValue()).toBe('Shopper.Since');
    await page.getByRole('button', { name: `Add a condition to ${c}` }).click();
    await page.getByLabel(`${c} 2 field`).selectOption({ label: 'Shopper.Orders (number)' });
    await page.getByLabel(`${c} 2 op`).selectOption({ label: 'is at least' });
    await page.getByLabel(`${c} 2 value`, { exact: true }).fill('3');
    await page.getByLabel(`${c} 2 kind`).selectOption({ label: 'Not' });
    expect(await page.getByLabel(`${c} 2 (not) value`, { exact: true }).inputValue()).toBe('3');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('button', { name: 'Draft saved' }).waitFor();
    const id = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    const saved = await call('GET', `/v1/conversations/${id}`);
    expect(saved.steps[0].branches[0].condition).toEqual({
      all: [{ field: 'Shopper.Since', op: 'isSet' }, { not: { field: 'Shopper.Orders', op: 'gte', value: 3 } }],
    });
  }, 90_000);

  it('nests a split and a wait, moves a step into a branch, and marks a nested problem with its path', async () => {
    await page.getByLabel('Step 1 branch 1 name').fill('Regulars');
    await page.getByLabel('Step 1 branch 1: add a step').selectOption({ label: 'Split step' });
    await page.getByLabel('Step 1.1.1 branch 1 name').fill('Many orders');
    await page.getByLabel('Step 1 otherwise: add a step').selectOption({ label: 'Wait for event step' });
    await page.getByLabel('Step 1.2.1 event').fill('order_placed');
    await page.getByLabel('Step 1.2.1 wait up to').fill('2');
    await page.getByLabel('Step 1.2.1 wait unit').selectOption({ label: 'days' });
    // Otherwise a code goes into Shopper.Code: that makes it a coupon field, needed on every path to a message that shows it.
    await page.getByLabel('Step 1 otherwise: add a step').selectOption({ label: 'Action step' });
    await page.getByLabel('Step 1.2.2 coupon pool').selectOption({ label: 'Welcome 10%' });
    await page.getByLabel('Step 1.2.2 save code to').selectOption({ label: 'Shopper.Code' });
    // A message step added at the top moves into the nested split's first branch.
    await page.getByRole('button', { name: 'Add message step' }).click();
    await page.getByLabel('Step 2 message').selectOption({ label: 'Code mail' });
    await page.getByLabel('Move step 2 to').selectOption({ label: 'Step 1.1.1 · Many orders' });
    await page.getByLabel('Step 1.1.1.1.1 message').waitFor();
    expect(await page.getByLabel('Step 2 message').count()).toBe(0);
    await page
      .getByRole('listitem', { name: /^Step 1\.1\.1\.1\.1:/ })
      .getByRole('button', { name: 'Commit message' })
      .click();
    await page
      .getByRole('listitem', { name: /^Step 1\.1\.1\.1\.1:/ })
      .getByText(/^Committed /)
      .waitFor();

    await page.getByRole('button', { name: 'Publish' }).click();
    const problems = page.getByRole('list', { name: 'Step 1.1.1.1.1 problems' });
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(/Shopper\.Code.*"Split" → Regulars.*"Split" → Many orders/);
    // The splits above it show that something inside them needs attention.
    expect(await page.getByRole('listitem', { name: /^Step 1:/ }).getAttribute('class')).toMatch(/has-(warning|error)/);

    const id = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    const saved = await call('GET', `/v1/conversations/${id}`);
    expect(saved.steps).toHaveLength(1);
    expect(saved.steps[0].branches[0].steps[0]).toMatchObject({ type: 'split', branches: [{ name: 'Many orders' }] });
    expect(saved.steps[0].branches[0].steps[0].branches[0].steps[0]).toMatchObject({ type: 'message', name: 'Send message' });
    expect(saved.steps[0].otherwise.steps).toMatchObject([
      { type: 'waitForEvent', event: 'order_placed', within: 'P2D' },
      { type: 'action', action: { poolId: ids.poolId, saveCodeTo: ids.codeField } },
    ]);
  }, 90_000);

  it('names a new assign-coupon step in a coupon condition and keeps naming it once the server gives it its id', async () => {
    await page.getByRole('button', { name: 'Add action step' }).click();
    await page.getByLabel('Step 2 coupon pool').selectOption({ label: 'Welcome 10%' });
    await page.getByLabel('Step 2 save code to').selectOption({ label: 'Shopper.Code' });
    await page.getByRole('button', { name: 'Add split step' }).click();
    const c = 'Step 3 branch 1 condition';
    await page.getByLabel(`${c} kind`).selectOption({ label: 'Coupon of an earlier step' });
    // The assign-coupon steps before this one: in the first split's otherwise, and the new one.
    expect(await options(`${c} step`)).toEqual([
      'Choose a step…',
      'Step 1.2.2: Update Segment Field with Coupon Code',
      'Step 2: Update Segment Field with Coupon Code',
    ]);
    await page.getByLabel(`${c} step`).selectOption({ label: 'Step 2: Update Segment Field with Coupon Code' });
    await page.getByLabel(`${c} outcome`).selectOption({ label: 'gave no code' });
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('button', { name: 'Draft saved' }).waitFor();
    const id = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    const saved = await call('GET', `/v1/conversations/${id}`);
    expect(saved.steps[1]).toMatchObject({ type: 'action', action: { poolId: ids.poolId, saveCodeTo: ids.codeField } });
    expect(saved.steps[2].branches[0].condition).toEqual({ coupon: saved.steps[1].id, is: 'none' });
    expect(await page.getByLabel(`${c} step`).inputValue()).toBe(saved.steps[1].id);
  }, 60_000);

  it('sets the trigger filter, the send window, and the account frequency cap', async () => {
    await page.getByLabel('Only events whose properties match start a run').check();
    await page.getByLabel('Trigger filter property').fill('cartValue');
    await page.getByLabel('Trigger filter op').selectOption({ label: 'is at least' });
    await page.getByLabel('Trigger filter value', { exact: true }).fill('20');
    expect(await options('Trigger filter kind')).toEqual(['Trigger event property', 'All of (and)', 'Any of (or)', 'Not']);
    await page.getByLabel('Send messages only within a window').check();
    await page.getByLabel('Send window from').fill('09:00');
    await page.getByLabel('Send window until').fill('20:30');
    await page.getByLabel('Sat', { exact: true }).uncheck();
    await page.getByLabel('Sun', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('button', { name: 'Draft saved' }).waitFor();
    const id = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    const saved = await call('GET', `/v1/conversations/${id}`);
    expect(saved.trigger).toEqual({ event: 'cart_abandoned', where: { event: 'properties.cartValue', op: 'gte', value: 20 } });
    expect(saved.sendWindow).toEqual({ start: '09:00', end: '20:30', days: [1, 2, 3, 4, 5] });

    await page.goto(`${server.url}/#/conversations`);
    const cap = page.getByRole('region', { name: 'Frequency cap' });
    await cap.getByLabel('Limit the mail per contact').check();
    await cap.getByLabel('At most (mails)').fill('3');
    await cap.getByLabel('Per (days)').fill('7');
    await cap.getByRole('button', { name: 'Save cap' }).click();
    await cap.getByRole('button', { name: 'Cap saved' }).waitFor();
    expect((await call('GET', '/v1/conductor/settings')).frequencyCap).toEqual({ messages: 3, perDays: 7 });
  }, 60_000);
});

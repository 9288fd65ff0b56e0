import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

/**
 * The conversation editor as a tree (issue 17.4, SPEC §5 "Branches and waits"): a split by the
 * cart value built in the browser (a condition on the trigger event's property, one pool per
 * branch, the message after both), published, then two test events: each contact's mail in the
 * console shows a code from the pool of its branch.
 */
describe('console: a split by the cart value, built in the editor', () => {
  let ids: { merchantId: string; bigPool: string; smallPool: string; codeField: string; messageId: string };
  let conversationId: string;
  const { server, page, call } = useConsole({
    account: 'Split Co',
    merchant: { name: 'Main shop', domain: 'shop.example.com' },
    async seed({ call, t, pool, upload, message }) {
      const big = await pool('Big carts 15%');
      const small = await pool('Small carts 10%');
      const fields = { expiration: 'fixed', expiresOn: '2027-06-30', onInvalid: 'reject' };
      await upload(big.id, ['BIG15-1', 'BIG15-2'], fields);
      await upload(small.id, ['SMALL10-1', 'SMALL10-2'], fields);
      const group = await call('POST', '/v1/field-groups', { name: 'Offer' });
      const code = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Code', type: 'text' });
      const mail = await message('Your cart code', 'A code for your cart', `<p>Your code: ${code.snippet}</p>`);
      ids = { merchantId: t.merchantId, bigPool: big.id, smallPool: small.id, codeField: code.id, messageId: mail.id };
    },
    pageTimeout: 20_000,
    signIn: { at: '#/conversations/new', ready: (page) => page.getByLabel('Conversation name') },
  });

  const problems = (n: string) => page.getByRole('list', { name: `Step ${n} problems` });

  it('builds the split in the editor, marks a path without its coupon on the message, and publishes the tree', async () => {
    await page.getByLabel('Conversation name').fill('Cart split');
    await page.getByRole('button', { name: 'Add split step' }).click();
    await page.getByLabel('Step 1 branch 1 name').fill('Cart over 100');
    const condition = 'Step 1 branch 1 condition';
    expect(await page.getByLabel(`${condition} kind`).inputValue()).toBe('event');
    await page.getByLabel(`${condition} property`).fill('cartValue');
    await page.getByLabel(`${condition} op`).selectOption({ label: 'is greater than' });
    expect(await page.getByLabel(`${condition} value type`).inputValue()).toBe('number');
    await page.getByLabel(`${condition} value`, { exact: true }).fill('100');

    // Branch 1 hands out a code of the big-cart pool; the message after the split shows the code.
    await page.getByLabel('Step 1 branch 1: add a step').selectOption({ label: 'Action step' });
    await page.getByLabel('Step 1.1.1 coupon pool').selectOption({ label: 'Big carts 15%' });
    await page.getByLabel('Step 1.1.1 save code to').selectOption({ label: 'Offer.Code' });
    await page.getByRole('button', { name: 'Add message step' }).click();
    await page.getByLabel('Step 2 message').selectOption({ label: 'Your cart code' });
    await page
      .getByRole('listitem', { name: /^Step 2:/ })
      .getByRole('button', { name: 'Commit message' })
      .click();
    await page
      .getByRole('listitem', { name: /^Step 2:/ })
      .getByText(/^Committed /)
      .waitFor();

    // "Otherwise" reaches the message without a code: refused by the console's own check, marked on the message.
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText(/Not published: \d+ error\(s\) to fix/).waitFor();
    expect(await problems('2').textContent()).toMatch(/Offer\.Code/);
    expect(await problems('2').textContent()).toMatch(/otherwise/);

    // The otherwise branch gets the small-cart pool: nothing left to fix, and it publishes.
    await page.getByLabel('Step 1 otherwise: add a step').selectOption({ label: 'Action step' });
    await page.getByLabel('Step 1.2.1 coupon pool').selectOption({ label: 'Small carts 10%' });
    await page.getByLabel('Step 1.2.1 save code to').selectOption({ label: 'Offer.Code' });
    await page.getByText('No errors left: the conversation can be published.').waitFor();
    expect(await problems('2').count()).toBe(0);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published: version 1 is live.').waitFor();

    conversationId = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    const saved = await call('GET', `/v1/conversations/${conversationId}`);
    expect(saved.status).toBe('live');
    expect(saved.steps).toHaveLength(2);
    const [split, mail] = saved.steps;
    expect(split).toMatchObject({
      type: 'split',
      branches: [
        {
          name: 'Cart over 100',
          condition: { event: 'properties.cartValue', op: 'gt', value: 100 },
          steps: [{ type: 'action', action: { type: 'assignCoupon', poolId: ids.bigPool, saveCodeTo: ids.codeField } }],
        },
      ],
      otherwise: { steps: [{ type: 'action', action: { type: 'assignCoupon', poolId: ids.smallPool, saveCodeTo: ids.codeField } }] },
    });
    expect(mail).toMatchObject({ type: 'message', messageId: ids.messageId, committed: { messageId: ids.messageId } });
    const text = await page.locator('body').textContent();
    expect(text).not.toMatch(/steps\.\d|Too small|expected string|Invalid input|messageId|saveCodeTo/);
  }, 90_000);

  it('sends a test event per cart, runs the conductor, and shows each contact the code of its branch', async () => {
    await call('POST', '/v1/events', { type: 'cart_abandoned', email: 'big@example.com', properties: { cartValue: 150 } }, 202);
    await call('POST', '/v1/events', { type: 'cart_abandoned', email: 'small@example.com', properties: { cartValue: 50 } }, 202);
    await server.app.services.engine.runDue();

    for (const [email, code, other] of [
      ['big@example.com', /BIG15-\d/, /SMALL10/],
      ['small@example.com', /SMALL10-\d/, /BIG15/],
    ] as const) {
      await page.goto(`${server.url}/#/outbox`);
      await page.getByLabel('Recipient').fill(email);
      await page.getByRole('button', { name: 'Filter' }).click();
      const list = page.getByRole('list', { name: 'Mail' });
      await list.getByText(`to ${email}`, { exact: false }).waitFor();
      expect(await list.getByRole('listitem').count()).toBe(1);
      await list.getByRole('link', { name: /A code for your cart/ }).click();
      const body = page.frameLocator('iframe[title^="Mail:"]').locator('body');
      await expect.poll(() => body.textContent()).toMatch(code);
      expect(await body.textContent()).not.toMatch(other);
    }

    // The split's step card counts the runs each branch took.
    await page.goto(`${server.url}/#/conversations/${conversationId}`);
    await expect.poll(() => page.getByLabel('Step 1 branch 1 taken').textContent(), { timeout: 15_000 }).toBe('1 taken');
    expect(await page.getByLabel('Step 1 otherwise taken').textContent()).toBe('1 taken');
    expect(await page.getByLabel('Step 2 counts').textContent()).toMatch(/^2 entered · 2 completed · 2 sent/);
  }, 90_000);
});

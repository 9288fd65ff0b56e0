import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

/**
 * The conversation editor checks with the server's own rules (src/modules/conductor/model.ts) and
 * marks each problem on its step; it shows a commit that is behind its message, and what runs do.
 */
describe('console: problems and facts on the steps of a conversation', () => {
  let ids: { merchantId: string; poolId: string; groupName: string; codeFieldId: string; messageId: string };
  const publishRequests: string[] = [];
  const { server, page, call } = useConsole({
    account: 'Steps Co',
    merchant: { name: 'Main shop', domain: 'shop.example.com' },
    async seed({ call, t, pool: newPool, message }) {
      const pool = await newPool('SCA10Off');
      const group = await call('POST', '/v1/field-groups', { name: 'ShopperInfo' });
      const code = await call('POST', `/v1/field-groups/${group.id}/fields`, { name: 'SCA10Off', type: 'text' });
      const mail = await message('Your 10% off', 'Your 10% off', `<p>Your code: ${code.snippet}</p>`);
      ids = { merchantId: t.merchantId, poolId: pool.id, groupName: group.name, codeFieldId: code.id, messageId: mail.id };
    },
    pageTimeout: 20_000,
    onPage: (page) =>
      page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith('/publish')) publishRequests.push(r.url());
      }),
    signIn: { at: '#/conversations/new', ready: (page) => page.getByLabel('Conversation name') },
  });

  const problems = (n: number) => page.getByRole('list', { name: `Step ${n} problems` });
  const step = (n: number) => page.getByRole('listitem', { name: new RegExp(`^Step ${n}:`) });

  it('marks a publish error on its step before asking the server, follows the step when it moves, and clears it once fixed', async () => {
    await page.getByLabel('Conversation name').fill('Cart abandonment 10%');
    await page.getByRole('button', { name: 'Add message step' }).click();
    await page.getByLabel('Step 1 message').selectOption({ label: 'Your 10% off' });
    await page.getByRole('button', { name: 'Add action step' }).click();
    await page.getByLabel('Step 2 coupon pool').selectOption({ label: 'SCA10Off' });
    await page.getByLabel('Step 2 save code to').selectOption({ label: 'ShopperInfo.SCA10Off' });
    await page.getByRole('button', { name: 'Publish' }).click();

    await page.getByText('Not published: 1 error(s) to fix (marked on the steps).').waitFor();
    expect(await problems(1).textContent()).toBe('Error (Message): the message is not committed to this step: commit it first');
    expect(await problems(2).count()).toBe(0);
    expect(await step(1).getAttribute('class')).toContain('has-error');
    // The console's own check (the server's rules) found it: nothing was sent, not even the draft.
    expect(publishRequests).toEqual([]);
    expect(page.url()).toMatch(/#\/conversations\/new$/);

    // Moved, the problem goes with its step; committed, it is gone.
    await page.getByRole('button', { name: 'Move step 2 up' }).click();
    expect(await problems(1).count()).toBe(0);
    expect(await problems(2).textContent()).toContain('not committed');
    await step(2).getByRole('button', { name: 'Commit message' }).click();
    await step(2)
      .getByText(/^Committed /)
      .waitFor();
    await page.getByText('No errors left: the conversation can be published.').waitFor();
    expect(await problems(2).count()).toBe(0);
    expect(await page.locator('.step.has-error').count()).toBe(0);

    // "Continue with an empty code": the message shows the code without a fallback, a warning on the message step (the server's words).
    await page.getByLabel('Step 1 when no code is left').selectOption('continue');
    const warning = `Warning (Message): the coupon field ShopperInfo.SCA10Off may be empty: "Update Segment Field with Coupon Code" continues when no code is left; add a fallback ({{ ShopperInfo.SCA10Off | default: "…" }}) or end the run when no code is left`;
    await problems(2)
      .getByText(/may be empty/)
      .waitFor();
    expect(await problems(2).textContent()).toBe(warning);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published: version 1 is live.').waitFor();
    expect(publishRequests).toHaveLength(1);
    expect(await problems(2).textContent()).toBe(warning);
    const text = await page.locator('body').textContent();
    expect(text).not.toMatch(/steps\.\d|Too small|expected string|Invalid input|messageId|saveCodeTo/);

    // Ending the run when no code is left clears the warning.
    await page.getByLabel('Step 1 when no code is left').selectOption('exit');
    expect(await problems(2).count()).toBe(0);
  });

  it('shows "changed since commit" when the message was edited after the commit, and re-commits in one click', async () => {
    const conversationId = /#\/conversations\/([^/]+)$/.exec(page.url())![1]!;
    await call('PUT', `/v1/messages/${ids.messageId}`, {
      name: 'Your 10% off',
      fromName: 'Shop',
      fromEmail: 'shop@example.com',
      subject: 'Your 10% off, today only',
      html: '<p>Your code: {{ ShopperInfo.SCA10Off | default: "WELCOME" }}</p>',
      text: null,
    });
    // Opened afresh (the edit was made elsewhere: through the API).
    await page.goto(`${server.url}/#/conversations`);
    await page.reload();
    await page.getByRole('link', { name: 'Cart abandonment 10%' }).click();
    const badge = page.getByLabel('Step 2 commit');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('changed since commit');
    const before = (await call('GET', `/v1/conversations/${conversationId}`)).steps[1].committed;
    expect(before.subject).toBe('Your 10% off');

    await step(2).getByRole('button', { name: 'Re-commit message' }).click();
    await step(2).getByRole('button', { name: 'Commit message', exact: true }).waitFor();
    expect(await badge.count()).toBe(0);
    const after = (await call('GET', `/v1/conversations/${conversationId}`)).steps[1].committed;
    expect(after).toMatchObject({
      subject: 'Your 10% off, today only',
      html: '<p>Your code: {{ ShopperInfo.SCA10Off | default: "WELCOME" }}</p>',
    });
  });

  it('counts the runs waiting in a delay on that step', async () => {
    const hello = await call('POST', '/v1/messages', {
      name: 'Hello',
      fromName: 'Shop',
      fromEmail: 'shop@example.com',
      subject: 'Hello',
      html: '<p>Hello {{ contact.email }}</p>',
      text: null,
    });
    const conv = await call('POST', '/v1/conversations', {
      name: 'Welcome series',
      trigger: { event: 'signed_up' },
      steps: [
        { type: 'delay', name: 'Wait a day', duration: 'P1D' },
        { type: 'message', name: 'Welcome', messageId: hello.id },
      ],
    });
    await call('POST', `/v1/conversations/${conv.id}/steps/${conv.steps[1].id}/commit`);
    await call('POST', `/v1/conversations/${conv.id}/publish`);
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) await call('POST', '/v1/events', { type: 'signed_up', email });
    await page.goto(`${server.url}/#/conversations/${conv.id}`);
    const counts = page.getByLabel('Step 1 counts');
    await counts.waitFor();
    expect(await counts.textContent()).toBe('3 entered · 0 completed · 3 waiting');
  });
});

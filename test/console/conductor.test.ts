import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

describe("console: the conversation editor speaks the marketer's words", () => {
  const { page } = useConsole({
    account: 'Conductor Co',
    signIn: { at: '#/conversations/new', ready: (page) => page.getByLabel('Conversation name') },
  });

  it('a refused save is marked on the step it concerns, without raw validation text, and cleared once fixed', async () => {
    await page.getByLabel('Conversation name').fill('Welcome');
    await page.getByRole('button', { name: 'Add delay step' }).click();
    await page.getByRole('button', { name: 'Add message step' }).click();
    await page.getByRole('button', { name: 'Save draft' }).click();

    await page.getByText(/Not saved: 1 setting\(s\) to fix \(marked on the steps\)/).waitFor();
    const problems = page.getByRole('list', { name: 'Step 2 problems' });
    expect(await problems.textContent()).toBe('Error (Message): Choose a message.');
    expect(await page.getByRole('list', { name: 'Step 1 problems' }).count()).toBe(0);
    const text = await page.locator('main, body').first().textContent();
    expect(text).not.toMatch(/steps\.\d|Too small|expected string|messageId/);
    expect(await page.getByRole('alert').count()).toBe(0);

    // Fixed (the empty message step removed): the marks go, and the draft saves.
    await page
      .getByRole('listitem', { name: /^Step 2:/ })
      .getByRole('button', { name: /Remove/ })
      .click();
    expect(await problems.count()).toBe(0);
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('button', { name: 'Draft saved' }).waitFor();
  });

  it('a new action step ends the run when no code is left, unless the marketer chooses otherwise', async () => {
    await page.getByRole('button', { name: 'Add action step' }).click();
    const whenNoCode = page.getByLabel('Step 2 when no code is left');
    expect(await whenNoCode.inputValue()).toBe('exit');
    expect(await whenNoCode.locator('option').allTextContents()).toEqual([
      'End the run (no mail without a code)',
      'Continue: later messages go out with an empty code',
    ]);
  });
});

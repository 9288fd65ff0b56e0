import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';
import { linkTokenFor } from '../users/team.ts';

/** Team access in the browser: invitation → password → sign-in → sign-out; tokens shown once; the audit log. */
describe('console: team access', () => {
  const invitee = 'maria.marketer@example.com';
  const password = 'summer sale every day';
  const { server, browser, page, t, signIn } = useConsole({ account: 'Team Co', pageTimeout: 20_000 });

  it('an owner invites a user from the Users screen', async () => {
    await signIn('');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByLabel('Email').fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption('marketer');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Invitation sent to ${invitee}` })
      .waitFor();
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: invitee });
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain('invited');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Password').waitFor();
  }, 120_000);

  it('the invitation link sets a password (a common one refused); the user signs in with it, sees only their sections, and signs out', async () => {
    const token = await linkTokenFor(server.app, t.accountId, invitee);
    await page.goto(`${server.url}/#/set-password/${encodeURIComponent(token)}`);
    await page.getByText(invitee).waitFor();
    await page.getByLabel('New password').fill('password123');
    await page.getByText('one of the most common passwords').waitFor();
    await page.getByLabel('New password').fill(password);
    await page.getByLabel('Repeat it').fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password is set' }).waitFor();
    await page.getByRole('link', { name: 'Sign in' }).click();

    await page.getByLabel('Email').fill(invitee);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('do not match').waitFor(); // a scrypt verify: slow on a loaded machine
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
    await page.getByTitle(`Signed in as ${invitee} (marketer)`).waitFor();
    const nav = page.getByRole('navigation', { name: 'Settings' });
    await nav.getByRole('link', { name: 'Integrations' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Audit' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Password').waitFor();
    const cookies = await browser.context.cookies();
    expect(cookies.find((c) => c.name === 'couponflow_session')?.value ?? '').toBe('');

    // The link worked once.
    await page.goto(`${server.url}/#/set-password/${encodeURIComponent(token)}`);
    await page.getByRole('alert').filter({ hasText: 'not valid any more' }).waitFor();
  }, 120_000);

  it('an owner creates a token (shown once), sees it listed, and reads the audit log', async () => {
    await signIn('');
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Token name').fill('checkout');
    await page.getByLabel('Token role', { exact: true }).selectOption('analyst');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = String(await page.getByLabel('New token').textContent());
    expect(shown).toMatch(/^cf_/);
    const res = await fetch(`${server.url}/v1/session`, { headers: { authorization: `Bearer ${shown}` } });
    expect(((await res.json()) as { role: string }).role).toBe('analyst');
    await expect.poll(() => page.getByRole('table', { name: 'Tokens' }).textContent(), { timeout: 15_000 }).toContain('checkout');

    await page.getByRole('link', { name: 'Audit' }).click();
    const log = page.getByRole('table', { name: 'Audit log' });
    await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain('token.create');
    const text = String(await log.textContent());
    expect(text).toContain('user.invite');
    expect(text).not.toContain(shown);
    expect(text).not.toContain(invitee.split('@')[0]);
  }, 120_000);
});

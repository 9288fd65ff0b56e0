import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useConsole } from './fixture.ts';

/** The part of a <textarea> the test uses, evaluated in the page. */
type TextArea = { setSelectionRange(start: number, end: number): void };

/**
 * The help article, walked in a real browser (Debian's chromium through playwright-core) against
 * a real listening server: sign in, a unique pool with a bad and a good upload, a static pool with
 * two rows, the field group and its two fields, a message written with snippets from the
 * personalization panel and previewed, the outbox with a pool notice, the conversation (the action
 * step "Assign Coupon Code 10%" moved right before the message step, commit, publish, pause/resume),
 * a test event, the mail with its unique code, the contact's journey, sign-out.
 *
 * SCREENSHOT_DIR=docs/screenshots (npm run screenshots) keeps the screenshots of the main screens.
 */
const shots = process.env.SCREENSHOT_DIR;

describe('console: the article, walked in a browser', () => {
  const pageErrors: string[] = [];
  const { server, browser, page, t } = useConsole({
    account: 'Shop & Co',
    merchant: { name: 'Main shop', domain: 'shop.example.com' },
    pageTimeout: 10_000,
    onPage(page) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // Answers like the 401 before sign-in are expected; scripts' own errors are not.
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
      });
    },
  });

  const shot = async (name: string) => {
    if (!shots) return;
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };

  // A failed step leaves a screenshot and the console's errors behind, to see what the user saw.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const path = join(tmpdir(), `couponflow-walk-failure-${Date.now()}.png`);
    try {
      await page.screenshot({ path, fullPage: true }); // throws too when the setup failed before the page existed
    } catch {
      /* no screenshot */
    }
    console.error(`screenshot of the failure: ${path}; page errors: ${JSON.stringify(pageErrors)}`);
  });

  it('signs in with a token exchanged for an HttpOnly cookie; the token is kept nowhere in the browser', async () => {
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill('cf_not-a-valid-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This token is not valid.');
    await shot('sign-in');

    await page.getByLabel('API token').fill(t.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
    await page.getByText('No coupon pools yet').waitFor();

    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === 'couponflow_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session?.value).not.toContain(t.token);
    // Evaluated in the page (a string, so the server's tsconfig needs no DOM types).
    const storage = String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie'));
    expect(storage).not.toContain(t.token);
    expect(storage).not.toContain('couponflow_session');
  });

  it('adds a unique pool, each setting checked beside its field', async () => {
    await page.getByRole('button', { name: 'Add New Pool' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Pool' });
    await dialog.getByLabel('Name', { exact: true }).fill('SCA10Off');
    await dialog.getByLabel('Type').selectOption('unique');
    await dialog.getByLabel('Expiration cutoff (days)').fill('seven');
    await dialog.getByLabel('Notification emails').fill('ops@example.com; not-an-address');
    await dialog.getByLabel('Expiry reminder (days before)').fill('0');
    await dialog.getByRole('button', { name: 'Save Settings' }).click();
    await dialog.getByText('A whole number of days, 0 or more.').waitFor();
    await dialog.getByText('Not an email address: not-an-address').waitFor();
    await dialog.getByText('A whole number of days from 1 to 3650 (or leave empty).').waitFor();
    await shot('pool-settings');

    await dialog.getByLabel('Expiration cutoff (days)').fill('7');
    await dialog.getByLabel('Default code', { exact: true }).fill('SORRY10');
    await dialog.getByLabel('Threshold').fill('100');
    await dialog.getByLabel('Notification emails').fill('ops@example.com; marketing@example.com');
    await dialog.getByLabel('Expiry reminder (days before)').fill('3');
    await dialog.getByRole('button', { name: 'Save Settings' }).click();
    await page.getByRole('heading', { name: /SCA10Off/ }).waitFor();
    const saved = await server.app.http.inject({
      method: 'GET',
      url: `/v1/merchants/${t.merchantId}/pools?limit=100`,
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(saved.json().items.find((p: { name: string }) => p.name === 'SCA10Off')).toMatchObject({
      expiryReminderDays: 3,
      threshold: 100,
    });
    await expect.poll(() => page.locator('[data-count="available"] dd').textContent()).toBe('0');
    await page.getByText('No codes yet').waitFor();
  });

  it('uploads a bad file (rejected, with its line errors), then a good one (imported, counts up)', async () => {
    await page.getByRole('button', { name: 'Upload codes', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Upload codes to SCA10Off/ });
    await dialog.getByLabel('Use date in file').check();
    await dialog.getByLabel('Delimiter').selectOption(',');
    await dialog.getByLabel('File', { exact: true }).setInputFiles({
      name: 'bad.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('code,expiration\nSCA-0001,2031-12-31\nSCA-0002,not a date\n'),
    });
    await dialog.getByRole('button', { name: 'Upload File' }).click();
    const report = dialog.getByRole('status', { name: 'Upload report' });
    await report.getByText('Rejected: nothing was imported.').waitFor();
    const errors = report.getByRole('table', { name: 'Line errors' });
    await expect.poll(() => errors.locator('tbody tr').count()).toBe(2);
    expect(await errors.locator('tbody tr').first().locator('td').first().textContent()).toBe('1');
    expect(await errors.locator('tbody tr').nth(1).locator('td').first().textContent()).toBe('3');
    expect(await dialog.locator('progress').getAttribute('value')).toBe('1');
    await shot('upload-report');

    const codes = Array.from({ length: 25 }, (_, i) => `SCA-${String(i + 1).padStart(4, '0')},2031-12-31`).join('\n');
    await dialog
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'codes.txt', mimeType: 'text/plain', buffer: Buffer.from(`${codes}\n`) });
    await dialog.getByRole('button', { name: 'Upload File' }).click();
    await report.getByText('Imported.').waitFor();
    expect(await report.textContent()).toContain('25 lines read, 25 imported, 0 duplicates skipped, 0 invalid');
    await dialog.getByRole('button', { name: 'Done' }).click();

    await expect.poll(() => page.locator('[data-count="available"] dd').textContent()).toBe('25');
    await expect.poll(() => page.locator('[data-count="total"] dd').textContent()).toBe('25');
    await page.getByRole('table', { name: 'Uploads' }).getByText('codes.txt').waitFor();
    await page.getByRole('img', { name: /Available codes over time: 25 now/ }).waitFor();

    // The list: counts, and the low badge (25 available is at or below the threshold of 100).
    await page.getByRole('link', { name: 'Coupon Manager' }).first().click();
    const row = page.locator('tr[data-pool="SCA10Off"]');
    await expect.poll(() => row.locator('[data-count="available"]').textContent()).toBe('25');
    await row.getByText('low', { exact: true }).waitFor();
    await shot('pools');
  });

  it('builds a static pool with two rows: Validate shows the overlap on its row, then saves', async () => {
    await page.getByRole('button', { name: 'Add New Pool' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add New Pool' });
    await dialog.getByLabel('Name', { exact: true }).fill('SUMMERSAVE');
    await dialog.getByLabel('Type').selectOption('static');
    await dialog.getByRole('button', { name: 'Save Settings' }).click();
    await page.getByRole('heading', { name: 'Static codes' }).waitFor();
    await page.getByText('No codes scheduled yet').waitFor();

    await page.getByLabel('Row 1 code').fill('SUMMERSAVE');
    await page.getByLabel('Row 1 expires on').fill('2031-08-31');
    await page.getByLabel('Row 1 begin distribution').fill('2031-06-01');
    await page.getByLabel('Row 1 end distribution').fill('2031-08-31');
    await page.getByRole('button', { name: 'Add Rows' }).click();
    await page.getByLabel('Row 2 code').fill('FALLSAVE');
    await page.getByLabel('Row 2 expiration kind').selectOption('days');
    await page.getByLabel('Row 2 days after distribution').fill('14');
    await page.getByLabel('Row 2 begin distribution').fill('2031-08-15');
    await page.getByLabel('Row 2 end distribution').fill('2031-11-30');
    await page.getByRole('button', { name: 'Validate' }).click();
    const row2Problems = page.getByRole('list', { name: 'Row 2 problems' });
    await row2Problems.getByText(/overlap/).waitFor();
    expect(await page.getByRole('list', { name: 'Row 1 problems' }).count()).toBe(0);
    await shot('static-rows');

    await page.getByLabel('Row 2 begin distribution').fill('2031-09-10');
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByText('Valid: 1 warning(s).').waitFor();
    await row2Problems.getByText(/Warning/).waitFor();
    await page.getByRole('button', { name: 'Save rows' }).click();
    await page.getByText('Saved: 1 warning(s).').waitFor();
  });

  it('creates the field group and both fields, each with its snippet', async () => {
    await page.getByRole('link', { name: 'Segmentation' }).click();
    await page.getByText('No field groups yet').waitFor();
    await page.getByLabel('New field group').fill('ShopperInfo');
    await page.getByRole('button', { name: 'Create group' }).click();
    const group = page.getByRole('article', { name: 'Field group ShopperInfo' });
    await group.getByLabel('Field name').fill('SCA10Off');
    await group.getByLabel('Data type').selectOption('text');
    await group.getByRole('button', { name: 'Save field' }).click();
    await group.getByText('{{ ShopperInfo.SCA10Off }}').waitFor();
    await group.getByLabel('Field name').fill('SCA10Off Expiration');
    await group.getByLabel('Data type').selectOption('date');
    await group.getByRole('button', { name: 'Save field' }).click();
    await group.getByText('{{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}').waitFor();
    // A name already taken is refused beside the field.
    await group.getByLabel('Field name').fill('SCA10Off');
    await group.getByRole('button', { name: 'Save field' }).click();
    await group.getByText(/already has a field named/).waitFor();
    await shot('segmentation');
  });

  it('finds a contact by email and opens it', async () => {
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByText('No contacts yet').waitFor();
    await page.getByLabel('Add a contact').fill('jane@example.com');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('heading', { name: 'jane@example.com' }).waitFor();
    await page.getByText('Not in any conversation yet.').waitFor();
    await page.getByRole('link', { name: 'Contacts' }).first().click();
    await page.getByLabel('Find by email').fill('JANE@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'jane@example.com' }).waitFor();
  });

  it('authors the message with snippets from the personalization panel; errors show their position; preview renders', async () => {
    await page.getByRole('link', { name: 'Authoring' }).click();
    await page.getByText('No messages yet').waitFor();
    await page.getByRole('link', { name: 'New message' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Your 10% off');
    await page.getByLabel('From name').fill('Shop & Co');
    await page.getByLabel('From email').fill('hello@shop.example.com');
    await page.getByLabel('Subject').fill('10% off, just for you');
    const html = page.getByLabel('HTML body');
    await html.fill('<p>Your code: </p>\n<p>Valid until </p>\n<p>{{ ShopperInfo.Nope }}</p>');
    // Put the cursor after "Your code: " and insert the code field from the panel.
    await html.evaluate((el: TextArea) => el.setSelectionRange('<p>Your code: '.length, '<p>Your code: '.length));
    await page.getByRole('button', { name: 'Insert ShopperInfo.SCA10Off', exact: true }).click();
    const afterFirst = await html.inputValue();
    expect(afterFirst.split('\n')[0]).toBe('<p>Your code: {{ ShopperInfo.SCA10Off }}</p>');
    const valid = afterFirst.indexOf('Valid until ') + 'Valid until '.length;
    await html.evaluate((el: TextArea, at: number) => el.setSelectionRange(at, at), valid);
    await page.getByRole('button', { name: 'Insert ShopperInfo.SCA10Off Expiration' }).click();
    expect((await html.inputValue()).split('\n')[1]).toBe('<p>Valid until {{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}</p>');

    await page.getByRole('button', { name: 'Save and validate' }).click();
    const problems = page.getByRole('list', { name: 'Template errors' });
    await problems.getByText(/html, line 3/).waitFor();
    expect(await problems.textContent()).toMatch(/Nope/);
    await shot('authoring-errors');

    await html.fill((await html.inputValue()).replace('\n<p>{{ ShopperInfo.Nope }}</p>', ''));
    await page.getByRole('button', { name: 'Save and validate' }).click();
    await page.getByText('Saved: the templates are valid.').waitFor();

    await page.getByLabel('Contact email').fill('jane@example.com');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await expect.poll(() => page.getByTestId('preview-subject').textContent()).toBe('10% off, just for you');
    const frame = page.frameLocator('iframe[title="Message preview"]');
    await frame.getByText('Your code:').waitFor();
    expect(await page.locator('iframe[title="Message preview"]').getAttribute('sandbox')).toBe('');
    await shot('authoring');
  });

  it('shows the outbox with the pool notice rendered in a sandboxed frame', async () => {
    await page.getByRole('link', { name: 'Outbox' }).click();
    const list = page.getByRole('list', { name: 'Mail' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2); // one notice per address on the pool's list
    await page.getByLabel('Recipient').fill('ops@example.com');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    await list.getByText('Coupon pool "SCA10Off" is low: 25 codes left').click();
    const mail = page.getByRole('article', { name: 'Mail' });
    await mail.getByText('ops@example.com').waitFor();
    const frame = page.frameLocator('iframe[title^="Mail:"]');
    await frame
      .getByText(/SCA10Off/)
      .first()
      .waitFor();
    expect(await page.locator('iframe[title^="Mail:"]').getAttribute('sandbox')).toBe('');
    await shot('outbox');
  });

  it('builds the conversation: the action step "Assign Coupon Code 10%" right before the message step, commit, publish', async () => {
    await page.getByRole('link', { name: 'Conductor' }).click();
    await page.getByText('No conversations yet').waitFor();
    await page.getByRole('link', { name: 'New conversation' }).click();
    await page.getByLabel('Conversation name').fill('Cart abandonment 10%');
    expect(await page.getByLabel('Trigger event').inputValue()).toBe('cart_abandoned');

    // The message step first, then the action step: publishing shows what is wrong, on each step.
    await page.getByRole('button', { name: 'Add message step' }).click();
    await page.getByLabel('Step 1 message').selectOption({ label: 'Your 10% off' });
    await page.getByRole('button', { name: 'Add action step' }).click();
    await page.getByLabel('Step 2 name').fill('Assign Coupon Code 10%');
    expect(await page.getByLabel('Step 2 action type').inputValue()).toBe('assignCoupon');
    await page.getByLabel('Step 2 merchant').selectOption({ label: 'Main shop' });
    await page.getByLabel('Step 2 coupon pool').selectOption({ label: 'SCA10Off' });
    await page.getByLabel('Step 2 save code to').selectOption({ label: 'ShopperInfo.SCA10Off' });
    await page.getByLabel('Step 2 save exp. date to').selectOption({ label: 'ShopperInfo.SCA10Off Expiration' });
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText(/Not published: \d+ error\(s\)/).waitFor();
    await page
      .getByRole('list', { name: 'Step 1 problems' })
      .getByText(/not committed/)
      .waitFor();
    await shot('conductor-errors');

    // Move the action step right before the message step, commit the message, publish.
    await page.getByRole('button', { name: 'Move step 2 up' }).click();
    expect(await page.getByLabel('Step 1 name').inputValue()).toBe('Assign Coupon Code 10%');
    await page
      .getByRole('listitem', { name: /^Step 2:/ })
      .getByRole('button', { name: 'Commit message' })
      .click();
    await page.getByText(/^Committed /).waitFor();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published: version 1 is live.').waitFor();
    await page
      .getByRole('heading', { name: /Cart abandonment 10%/ })
      .getByText('live')
      .waitFor();

    await page.getByRole('button', { name: 'Pause' }).click();
    await page
      .getByRole('heading', { name: /Cart abandonment 10%/ })
      .getByText('paused')
      .waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page
      .getByRole('heading', { name: /Cart abandonment 10%/ })
      .getByText('live')
      .waitFor();
  });

  it('sends a test event; the outbox shows the mail with a unique code from the pool', async () => {
    const form = page.getByRole('region', { name: 'Send test event' }).or(page.locator('[aria-label="Send test event"]'));
    expect(await form.getByLabel('Event type').inputValue()).toBe('cart_abandoned');
    await form.getByLabel('Contact email').fill('shopper@example.com');
    await form.getByRole('button', { name: 'Send event' }).click();
    await form.getByText('The contact entered this conversation.').waitFor();
    await shot('conductor');

    // The workers of `serve` run the steps; here the test runs them (no timers in tests).
    await server.app.services.engine.runDue();

    await page.getByRole('navigation').getByRole('link', { name: 'Outbox', exact: true }).click();
    await page.getByLabel('Recipient').fill('shopper@example.com');
    await page.getByRole('button', { name: 'Filter' }).click();
    const list = page.getByRole('list', { name: 'Mail' });
    await list.getByText('10% off, just for you').click();
    const frame = page.frameLocator('iframe[title^="Mail:"]');
    await frame.getByText(/Your code: SCA-\d{4}/).waitFor();
    const body = await frame.locator('body').textContent();
    const code = /Your code: (SCA-\d{4})/.exec(body ?? '')?.[1];
    const assigned = await server.app.http.inject({
      method: 'GET',
      url: '/v1/outbox?to=shopper@example.com',
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(assigned.json().items[0].html).toContain(code);
    expect(body).toMatch(/Valid until \d{2}\/\d{2}\/2031/);
    await shot('outbox-message');

    // The contact's journey shows the steps and the code.
    await page.getByRole('link', { name: 'Contacts' }).click();
    await page.getByLabel('Find by email').fill('shopper@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('table', { name: 'Journeys' }).getByText(code!).waitFor();
    await page
      .getByRole('list', { name: 'ShopperInfo values' })
      .or(page.locator('[aria-label="ShopperInfo values"]'))
      .getByText(code!)
      .waitFor();
    await shot('contact');
  });

  it('a change without the console Origin is refused even with the cookie; sign-out ends the session', async () => {
    // Same cookie, no Origin header: what a cross-site form or a stolen-cookie script would send.
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'couponflow_session')!;
    const forged = await fetch(`${server.url}/v1/merchants`, {
      method: 'POST',
      headers: { cookie: `couponflow_session=${cookie.value}`, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ name: 'x', domain: 'x.example.com' }),
    });
    expect(forged.status).toBe(403);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').waitFor();
    expect((await browser.context.cookies()).find((c) => c.name === 'couponflow_session')).toBeUndefined();
    const after = await fetch(`${server.url}/v1/merchants`, { headers: { cookie: `couponflow_session=${cookie.value}` } });
    expect(after.status).toBe(401);
    expect(pageErrors).toEqual([]);
  });
});

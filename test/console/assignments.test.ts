import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { multipart } from '../helpers/multipart.ts';
import { buildConsole, launchBrowser, startServer, type ConsoleServer } from './browser.ts';

describe('console: who got which code, on the pool page', () => {
  let server: ConsoleServer;
  let built: Awaited<ReturnType<typeof buildConsole>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let poolId: string;
  let merchantId: string;
  let auth: { authorization: string };

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Assign Co' });
    auth = { authorization: `Bearer ${tenant.token}` };
    const merchant = (
      await server.app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: auth,
        payload: { name: 'Shop', domain: 'shop.example.com' },
      })
    ).json();
    merchantId = merchant.id;
    poolId = (
      await server.app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${merchant.id}/pools`,
        headers: auth,
        payload: { name: 'Gifts', type: 'unique' },
      })
    ).json().id;
    const codes = Array.from({ length: 60 }, (_, i) => `GIFT-${String(i + 1).padStart(3, '0')}`).join('\n');
    const body = multipart({}, { content: `${codes}\n` });
    expect(
      (
        await server.app.http.inject({
          method: 'POST',
          url: `/v1/pools/${poolId}/uploads`,
          headers: { ...auth, ...body.headers },
          payload: body.payload,
        })
      ).statusCode,
    ).toBe(201);
    for (let i = 1; i <= 55; i++) {
      const res = await server.app.http.inject({
        method: 'POST',
        url: `/v1/pools/${poolId}/assignments`,
        headers: auth,
        payload: { email: `shopper${i}@example.com`, idempotencyKey: `k${i}` },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/#/pools/${poolId}`);
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Gifts/ }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  it('lists assignments a page at a time, finds them by email or code and by status on the server, and exports them (filtered or all) as CSV', async () => {
    const section = page.getByRole('region', { name: 'Assignments', exact: true });
    const table = section.getByRole('table', { name: 'Assignments list' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);
    const first = table.locator('tbody tr').first();
    expect(await first.textContent()).toMatch(/shopper1@example\.com.*GIFT-\d{3}.*unique code/);
    await section.getByRole('button', { name: 'Next page', exact: true }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(5);
    expect(await section.getByRole('button', { name: 'Next page', exact: true }).isDisabled()).toBe(true);
    await section.getByRole('button', { name: 'Previous page', exact: true }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);

    // The search runs on the server: shopper53 is on the second page, found from the first.
    const find = section.getByLabel('Find by email or code');
    await find.fill('shopper53@');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').first().textContent()).toContain('shopper53@example.com');
    const code = (await table.locator('tbody tr code').first().textContent())!;
    await find.fill(code.toLowerCase());
    await expect.poll(() => table.locator('tbody tr').first().textContent()).toContain('shopper53@example.com');
    expect(await table.locator('tbody tr').count()).toBe(1);
    await find.fill('');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);

    // Status: shopper2's code was redeemed.
    const redeemed = (
      await server.app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/assignments?q=shopper2%40`, headers: auth })
    ).json().items[0];
    const redeem = await server.app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${merchantId}/redemptions`,
      headers: auth,
      payload: { code: redeemed.code, orderId: 'order-1' },
    });
    expect(redeem.statusCode, redeem.body).toBe(201);
    await section.getByLabel('Status').selectOption('redeemed');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/shopper2@example\.com.*redeemed/);

    // The export follows the filter; without one it holds every assignment.
    const { readFile } = await import('node:fs/promises');
    const exported = async (name: RegExp) => {
      const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('link', { name }).click()]);
      return (await readFile((await download.path())!, 'utf8')).trimEnd().split('\n');
    };
    const these = await exported(/Export these as CSV/);
    expect(these).toHaveLength(2);
    expect(these[1]).toContain('shopper2@example.com');
    await section.getByLabel('Status').selectOption('');
    const csv = await exported(/^Export CSV$/);
    expect(csv[0]).toBe('id,code,expiresAt,source,contactId,email,idempotencyKey,createdAt,status');
    expect(csv).toHaveLength(56);
    expect(csv.some((l) => l.includes(`,${code},`) && l.includes('shopper53@example.com'))).toBe(true);
  }, 60_000);
});

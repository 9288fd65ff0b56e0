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

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Assign Co' });
    const auth = { authorization: `Bearer ${tenant.token}` };
    const merchant = (await server.app.http.inject({ method: 'POST', url: '/v1/merchants', headers: auth, payload: { name: 'Shop', domain: 'shop.example.com' } })).json();
    poolId = (await server.app.http.inject({ method: 'POST', url: `/v1/merchants/${merchant.id}/pools`, headers: auth, payload: { name: 'Gifts', type: 'unique' } })).json().id;
    const codes = Array.from({ length: 60 }, (_, i) => `GIFT-${String(i + 1).padStart(3, '0')}`).join('\n');
    const body = multipart({}, { content: `${codes}\n` });
    expect((await server.app.http.inject({ method: 'POST', url: `/v1/pools/${poolId}/uploads`, headers: { ...auth, ...body.headers }, payload: body.payload })).statusCode).toBe(201);
    for (let i = 1; i <= 55; i++) {
      const res = await server.app.http.inject({ method: 'POST', url: `/v1/pools/${poolId}/assignments`, headers: auth, payload: { email: `shopper${i}@example.com`, idempotencyKey: `k${i}` } });
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

  it('lists assignments a page at a time, finds one by email or code, and exports them all as CSV', async () => {
    const table = page.getByRole('table', { name: 'Assignments list' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);
    const first = table.locator('tbody tr').first();
    expect(await first.textContent()).toMatch(/shopper1@example\.com.*GIFT-\d{3}.*unique code/);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(5);
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(50);

    await page.getByLabel('Find on this page by email or code').fill('shopper7@');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    const code = (await table.locator('tbody tr code').first().textContent())!;
    await page.getByLabel('Find on this page by email or code').fill(code.toLowerCase());
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').first().textContent()).toContain('shopper7@example.com');

    const link = page.getByRole('link', { name: 'Export CSV' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    const csv = (await readFile(path!, 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe('id,code,expiresAt,source,contactId,email,idempotencyKey,createdAt');
    expect(csv).toHaveLength(56);
    expect(csv.some((l) => l.includes(`,${code},`) && l.includes('shopper7@example.com'))).toBe(true);
  }, 60_000);
});

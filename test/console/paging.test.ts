import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { buildConsole, launchBrowser, startServer, type ConsoleServer } from './browser.ts';

/** The shared pager (web/src/paging.tsx) on the lists that had none tested: pools, the pool's codes, tokens. */
describe('console: lists a page at a time', () => {
  let server: ConsoleServer;
  let built: Awaited<ReturnType<typeof buildConsole>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let poolId: string;
  let auth: { authorization: string };

  const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await server.app.http.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  };
  const rows = (table: Locator) => table.locator('tbody tr');
  const names = async (table: Locator) => (await rows(table).locator('td:first-child').allTextContents()).map((t) => t.trim());

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Paging Co' });
    auth = { authorization: `Bearer ${tenant.token}` };
    const merchant = await call('POST', '/v1/merchants', { name: 'Shop', domain: 'shop.example.com' });
    // 52 pools in use (a page of 50, then 2), none archived.
    for (let i = 1; i <= 52; i++) {
      const pool = await call('POST', `/v1/merchants/${merchant.id}/pools`, { name: `Pool ${String(i).padStart(2, '0')}`, type: 'unique' });
      if (i === 1) poolId = pool.id;
    }
    await call('POST', `/v1/pools/${poolId}/generate`, { count: 55, length: 10, prefix: 'PG' });
    // The tenant's own token and 52 more: 53 tokens.
    for (let i = 1; i <= 52; i++) await call('POST', '/v1/tokens', { name: `script ${i}`, role: 'analyst' });
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Use an API token instead', exact: true }).click();
    await page.getByLabel('API token', { exact: true }).fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Coupon Manager', exact: true }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  it('pools: Next shows the rest, Previous the first page again; the Archived view starts on its own first page', async () => {
    const table = page.getByRole('table', { name: 'Coupon pools', exact: true });
    await expect.poll(() => rows(table).count()).toBe(50);
    const first = await names(table);
    expect(await page.getByRole('button', { name: 'Previous', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(2);
    const second = await names(table);
    expect(second.filter((n) => first.includes(n))).toEqual([]);
    expect(await page.getByRole('button', { name: 'Next', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Previous', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(50);
    expect(await names(table)).toEqual(first);

    // A change of view starts again from the first page: the second page of pools in use is no cursor for the archived ones.
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(2);
    await page.getByRole('button', { name: 'Archived', exact: true }).click();
    await page.getByText('No archived pools', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Previous', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'In use', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(50);
    expect(await page.getByRole('button', { name: 'Previous', exact: true }).count()).toBe(0);
  });

  it("the pool's codes: named buttons page through the 55 codes", async () => {
    await page.goto(`${server.url}/#/pools/${poolId}`);
    const section = page.getByRole('region', { name: 'Codes', exact: true });
    const table = section.getByRole('table', { name: 'Pool codes', exact: true });
    await expect.poll(() => rows(table).count()).toBe(50);
    const first = await rows(table).locator('code').allTextContents();
    await section.getByRole('button', { name: 'Next page of codes', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(5);
    const rest = await rows(table).locator('code').allTextContents();
    expect(new Set([...first, ...rest]).size).toBe(55);
    expect(await section.getByRole('button', { name: 'Next page of codes', exact: true }).count()).toBe(0);
    await section.getByRole('button', { name: 'Previous page of codes', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(50);
  });

  it('tokens: 53 of them, in a page of 50 and one of 3', async () => {
    await page.goto(`${server.url}/#/tokens`);
    const table = page.getByRole('table', { name: 'Tokens', exact: true });
    await expect.poll(() => rows(table).count()).toBe(50);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(3);
    await page.getByRole('button', { name: 'Previous', exact: true }).click();
    await expect.poll(() => rows(table).count()).toBe(50);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildConsole, launchBrowser, startServer, type ConsoleServer } from './browser.ts';

/** How far the page scrolls sideways (0 when nothing overflows the window). */
const overflow = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

describe('console: usable down to 768 px wide', () => {
  let server: ConsoleServer;
  let built: Awaited<ReturnType<typeof buildConsole>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Narrow Co' });
    const auth = { authorization: `Bearer ${tenant.token}` };
    const merchant = (
      await server.app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: auth,
        payload: { name: 'Shop', domain: 'shop.example.com' },
      })
    ).json();
    for (const type of ['unique', 'static'] as const) {
      const res = await server.app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${merchant.id}/pools`,
        headers: auth,
        payload: { name: `Spring ${type} pool`, type },
      });
      ids[type] = res.json().id;
    }
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await page.setViewportSize({ width: 768, height: 900 });
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  it.each([
    ['the pool list', () => '#/pools', 'Coupon Manager'],
    ['a unique pool', () => `#/pools/${ids.unique}`, 'Spring unique pool'],
    ['a static pool with its rows', () => `#/pools/${ids.static}`, 'Spring static pool'],
    ['the conversation editor', () => '#/conversations/new', 'New conversation'],
  ])('%s has no horizontal overflow', async (_name, path, heading) => {
    await page.goto(`${server.url}/${path()}`);
    await page.getByRole('heading', { name: heading }).first().waitFor();
    if (heading === 'New conversation') {
      for (const kind of ['delay', 'action', 'message']) await page.getByRole('button', { name: `Add ${kind} step` }).click();
    }
    await page.waitForTimeout(300);
    const culprits = await page.evaluate(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`,
    );
    expect(await overflow(page), JSON.stringify(culprits)).toBe(0);
  });
});

describe('console: static rows at desktop widths', () => {
  let server: ConsoleServer;
  let built: Awaited<ReturnType<typeof buildConsole>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let poolId: string;

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Wide Co' });
    const auth = { authorization: `Bearer ${tenant.token}` };
    const merchant = (
      await server.app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: auth,
        payload: { name: 'Shop', domain: 'shop.example.com' },
      })
    ).json();
    poolId = (
      await server.app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${merchant.id}/pools`,
        headers: auth,
        payload: { name: 'Shared code', type: 'static' },
      })
    ).json().id;
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/#/pools/${poolId}`);
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Shared code/ }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  it.each([1280, 1440, 1920])(
    'at %i px the Remove button of a row is the element under the mouse (not the Settings panel)',
    async (width) => {
      await page.setViewportSize({ width, height: 900 });
      if ((await page.getByLabel('Remove row 1').count()) === 0) await page.getByRole('button', { name: /Add row/ }).click();
      const remove = page.getByLabel('Remove row 1');
      await remove.scrollIntoViewIfNeeded();
      const box = (await remove.boundingBox())!;
      const hit = await page.evaluate(
        `(() => { const e = document.elementFromPoint(${box.x + box.width / 2}, ${box.y + box.height / 2}); return e && (e.closest('button')?.getAttribute('aria-label') ?? e.tagName); })()`,
      );
      expect(hit).toBe('Remove row 1');
    },
  );
});

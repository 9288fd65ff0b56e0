import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useConsole } from './fixture.ts';

/** How far the page scrolls sideways (0 when nothing overflows the window). */
const overflow = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

describe('console: usable down to 768 px wide', () => {
  const ids: Record<string, string> = {};
  const { server, page } = useConsole({
    account: 'Narrow Co',
    async seed({ pool }) {
      for (const type of ['unique', 'static'] as const) ids[type] = (await pool(`Spring ${type} pool`, type)).id;
    },
    viewport: { width: 768, height: 900 },
    signIn: { at: '', ready: (page) => page.getByRole('heading', { name: 'Coupon Manager' }) },
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
  let poolId: string;
  const { page } = useConsole({
    account: 'Wide Co',
    async seed({ pool }) {
      poolId = (await pool('Shared code', 'static')).id;
    },
    signIn: { at: () => `#/pools/${poolId}`, ready: (page) => page.getByRole('heading', { name: /Shared code/ }) },
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

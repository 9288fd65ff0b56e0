import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

/** Issue 11 on the pool page: static rows' words and schedule, the merchant switcher, the header, dialogs, /docs. */
describe('console: the pool page', () => {
  const ids: Record<string, string> = {};
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

  const { server, browser, page, t } = useConsole({
    account: 'Pool Page Co',
    merchant: { name: 'First Shop', domain: 'first.example.com' },
    async seed({ call, t, pool, upload }) {
      ids.first = t.merchantId;
      ids.second = (
        await call('POST', '/v1/merchants', { name: 'The Second Shop With A Rather Long Trading Name', domain: 'second.example.com' }, 201)
      ).id;
      ids.static = (await pool('Shared code', 'static', ids.first)).id;
      ids.unique = (await pool('Second shop codes', 'unique', ids.second)).id;
      await upload(ids.unique, ['S1', 'S2']);
    },
    signIn: { at: '', ready: (page) => page.getByRole('heading', { name: 'Coupon Manager' }) },
  });

  it('static rows: errors name rows from 1, with field labels and the dates the inputs show; saving refreshes the schedule and the counts', async () => {
    await page.goto(`${server.url}/#/pools/${ids.static}`);
    await page.getByRole('heading', { name: /Shared code/ }).waitFor();
    const fill = async (n: number, code: string, begin: string, end: string, expires: string) => {
      await page.getByLabel(`Row ${n} code`).fill(code);
      await page.getByLabel(`Row ${n} expires on`).fill(expires);
      await page.getByLabel(`Row ${n} begin distribution`).fill(begin);
      await page.getByLabel(`Row ${n} end distribution`).fill(end);
    };
    await fill(1, 'NOW-CODE', day(-3), day(3), day(30));
    await page.getByRole('button', { name: 'Add Rows' }).click();
    await fill(2, 'NEXT-CODE', day(2), day(20), day(40)); // overlaps row 1
    await page.getByRole('button', { name: 'Validate' }).click();
    const problems = page.getByRole('list', { name: 'Row 2 problems' });
    // A day as the browser's date inputs show it (its locale's format).
    const shown = (iso: string) =>
      page.evaluate(
        `new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).format(new Date('${iso}T00:00:00Z'))`,
      ) as Promise<string>;
    await expect.poll(() => problems.textContent()).toContain('Row 2 overlaps row 1');
    const text = (await problems.textContent())!;
    expect(text).toContain(`row 1 runs until ${await shown(day(3))}`);
    expect(text).not.toMatch(/beginDistribution|row 0|T\d\d:\d\d/);

    await page.getByLabel('Row 2 begin distribution').fill(day(4));
    await page.getByRole('button', { name: 'Save rows' }).click();
    await page.getByText(/^Saved:/).waitFor();
    const schedule = page.getByLabel('Static code schedule');
    await expect.poll(() => schedule.locator('[data-count="live"]').textContent()).toContain('NOW-CODE (row 1), handed out until');
    expect(await schedule.locator('[data-count="live"]').textContent()).toContain(await shown(day(3)));
    expect(await schedule.locator('[data-count="next"]').textContent()).toContain(`NEXT-CODE (row 2) from ${await shown(day(4))}`);
    expect(await schedule.locator('[data-count="rows"] dd').textContent()).toBe('2');
    // No run-out forecast of "codes" for a shared code.
    expect(await page.getByText(/Runs out/).count()).toBe(0);
  });

  it('the type-change refusal shows the server reason beside the Type field', async () => {
    await page.goto(`${server.url}/#/pools/${ids.unique}`);
    await page.getByRole('heading', { name: /Second shop codes/ }).waitFor();
    await page.getByLabel('Type').selectOption('static');
    await page.getByRole('button', { name: 'Save Settings' }).click();
    await page.getByText('The type of a pool that holds codes cannot change; create another pool.').waitFor();
  });

  it('a pool opened by URL drives the breadcrumb and the switcher; the switcher remembers its choice', async () => {
    await page.goto(`${server.url}/#/pools/${ids.unique}`);
    await page.getByRole('heading', { name: /Second shop codes/ }).waitFor();
    const switcher = page.getByLabel('Merchant');
    await expect.poll(() => switcher.inputValue()).toBe(ids.second);
    expect(await page.locator('.crumbs').textContent()).toContain('The Second Shop With A Rather Long Trading Name');
    await switcher.selectOption(ids.first!);
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
    await page.locator('tr[data-pool="Shared code"]').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
    expect(await page.getByLabel('Merchant').inputValue()).toBe(ids.first);
    expect(await page.evaluate("localStorage.getItem('couponflow.merchant')")).toBe(ids.first);
  });

  it('at 1280 px the header is one line, merchant names are not cut mid-word; there is a link to /docs', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${server.url}/#/pools`);
    await page.getByRole('heading', { name: 'Coupon Manager' }).waitFor();
    const tops = (await page.evaluate(
      `[...document.querySelectorAll('header.top a, header.top select, header.top button')].map((e) => Math.round(e.getBoundingClientRect().top))`,
    )) as number[];
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(20);
    // Every option's label fits the select (nothing clipped), the long one shortened at a word.
    const options = (await page.evaluate(`(() => {
      const select = document.querySelector('select[aria-label="Merchant"]');
      const probe = document.createElement('span');
      probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;font:' + getComputedStyle(select).font;
      document.body.append(probe);
      const widths = [...select.options].map((o) => {
        probe.textContent = o.text;
        return { text: o.text, title: o.title, fits: probe.getBoundingClientRect().width <= select.clientWidth - 24 };
      });
      probe.remove();
      return widths;
    })()`)) as { text: string; title: string; fits: boolean }[];
    expect(
      options.every((o) => o.fits),
      JSON.stringify(options),
    ).toBe(true);
    const long = options.find((o) => o.title.startsWith('The Second Shop'))!;
    expect(long.text).toMatch(/^The Second Shop With A( Rather)?…$/);
    expect(await page.getByRole('link', { name: 'API docs' }).getAttribute('href')).toBe('/docs');
  });

  it('a dialog taller than the window scrolls inside it', async () => {
    await page.setViewportSize({ width: 1280, height: 420 });
    await page.goto(`${server.url}/#/pools/${ids.unique}`);
    await page.getByRole('button', { name: 'Upload codes', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const box = (await page.evaluate(
      `(() => { const d = document.querySelector('dialog'); return { bottom: d.getBoundingClientRect().bottom, scroll: d.scrollHeight, client: d.clientHeight, overflow: getComputedStyle(d).overflowY }; })()`,
    )) as { bottom: number; scroll: number; client: number; overflow: string };
    expect(box.bottom).toBeLessThanOrEqual(420);
    expect(box.scroll).toBeGreaterThan(box.client);
    expect(box.overflow).toBe('auto');
    await dialog.getByRole('button', { name: 'Upload File' }).scrollIntoViewIfNeeded();
    expect(await dialog.getByRole('button', { name: 'Upload File' }).isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('/docs without a session goes to sign-in and back', async () => {
    const fresh = await browser.context.browser()?.newContext();
    const other = fresh ? await fresh.newPage() : await browser.context.newPage();
    await other.context().clearCookies();
    await other.goto(`${server.url}/docs`);
    await other.getByRole('button', { name: 'Use an API token instead' }).click();
    await other.getByLabel('API token').waitFor();
    expect(new URL(other.url()).searchParams.get('next')).toBe('/docs');
    await other.getByLabel('API token').fill(t.token);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.waitForURL(`${server.url}/docs`);
    expect(await other.content()).toContain('Couponflow API');
    await other.close();
  });
});

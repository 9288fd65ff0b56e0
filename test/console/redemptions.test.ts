import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { useConsole } from './fixture.ts';

describe('console: redemptions and the Codes section', () => {
  let poolId: string;
  let annCode: string;
  const { server, page } = useConsole({
    account: 'Redeem Co',
    async seed({ call, pool, upload, assign }) {
      poolId = (await pool('Spring Pool')).id;
      await upload(poolId, ['SPRING-1', 'SPRING-2', 'SPRING-3'], { expiration: 'none' });
      await call('POST', `/v1/pools/${poolId}/generate`, { count: 2, length: 8, prefix: 'GEN' }, 201);
      annCode = (await assign(poolId, 'ann@example.com', 'k1')).code;
    },
    pageTimeout: 20_000,
    signIn: { at: '#/redemptions', ready: (page) => page.getByRole('heading', { name: /Redemptions/ }) },
  });

  it('imports a redemptions file, shows its report, lists the redemptions and rolls one back', { timeout: 120_000 }, async () => {
    await page.getByRole('button', { name: 'Import redemptions' }).click();
    const dialog = page.getByRole('dialog');
    const csv = 'code,orderId,amount,currency,email\nSPRING-1,order-1,12.50,EUR,ann@example.com\nSPRING-2,order-2,,,\nNOPE,order-3,,,\n';
    await dialog.getByLabel('CSV file').setInputFiles({ name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog.getByLabel('Skip them, record the rest').check();
    await dialog.getByRole('button', { name: 'Import' }).click();
    const report = dialog.getByRole('status', { name: 'Import report' });
    await expect.poll(() => report.textContent()).toContain('2 redemptions recorded');
    expect(await report.textContent()).toContain('1 not recorded');
    expect(await dialog.getByRole('table', { name: 'Line errors' }).textContent()).toContain('code_not_found');
    await page.keyboard.press('Escape');

    const table = page.getByRole('table', { name: 'Redemptions' });
    await expect.poll(async () => (await table.textContent()) ?? '').toContain('order-2');

    // The pool page shows them: 2 redeemed; the rate is of the one assignment (ann's), redeemed if her code was in the file.
    await page.goto(`${server.url}/#/pools/${poolId}`);
    await expect.poll(() => page.locator('[data-count="redeemed"] dd').textContent()).toBe('2');
    const rate = ['SPRING-1', 'SPRING-2'].includes(annCode) ? '100%' : '0%';
    await expect.poll(() => page.locator('[data-count="redemptionRate"] dd').textContent()).toBe(rate);
    await page.goto(`${server.url}/#/redemptions`);
    await expect.poll(async () => (await table.textContent()) ?? '').toContain('order-2');
    const row = table.getByRole('row').filter({ hasText: 'order-1' });
    expect(await row.textContent()).toContain('12.50 EUR');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Roll back' }).click();
    await expect.poll(async () => (await row.textContent()) ?? '').toContain('rolled back');
  });

  it('shows the codes on the pool page, filters them by upload, and exports them as CSV', { timeout: 120_000 }, async () => {
    await page.goto(`${server.url}/#/pools/${poolId}`);
    const codes = page.getByRole('table', { name: 'Pool codes' });
    await expect.poll(async () => (await codes.textContent()) ?? '').toContain('SPRING-3');
    expect(await codes.getByRole('row').filter({ hasText: 'SPRING-2' }).textContent()).toContain('redeemed');

    const filters = page.getByRole('form', { name: 'Code filters' });
    const upload = filters.getByLabel('Upload');
    const generated = (await upload.locator('option').allTextContents()).find((t) => t.includes('generated'))!;
    await upload.selectOption({ label: generated });
    await filters.getByRole('button', { name: 'Show' }).click();
    await expect.poll(async () => (await codes.textContent()) ?? '').not.toContain('SPRING');
    expect(await codes.getByRole('row').count()).toBe(3); // the header and the two generated codes

    const [download] = await Promise.all([page.waitForEvent('download'), filters.getByRole('link', { name: 'Export CSV' }).click()]);
    const rows = parse(await readFile((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.code!.startsWith('GEN') && r.status === 'available')).toBe(true);

    await upload.selectOption({ label: 'All uploads' });
    await filters.getByLabel('Status').selectOption('redeemed');
    await filters.getByRole('button', { name: 'Show' }).click();
    const [all] = await Promise.all([page.waitForEvent('download'), filters.getByRole('link', { name: 'Export CSV' }).click()]);
    const redeemed = parse(await readFile((await all.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(redeemed.map((r) => r.code)).toEqual(['SPRING-2']); // SPRING-1's redemption was rolled back
  });
});

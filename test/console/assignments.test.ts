import { describe, expect, it } from 'vitest';
import { useConsole } from './fixture.ts';

describe('console: who got which code, on the pool page', () => {
  let poolId: string;
  const { server, page, t } = useConsole({
    account: 'Assign Co',
    async seed({ pool, upload, assign }) {
      poolId = (await pool('Gifts')).id;
      await upload(
        poolId,
        Array.from({ length: 60 }, (_, i) => `GIFT-${String(i + 1).padStart(3, '0')}`),
      );
      for (let i = 1; i <= 55; i++) await assign(poolId, `shopper${i}@example.com`, `k${i}`);
    },
    signIn: { at: () => `#/pools/${poolId}`, ready: (page) => page.getByRole('heading', { name: /Gifts/ }) },
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
      await server.app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/assignments?q=shopper2%40`, headers: t.auth })
    ).json().items[0];
    const redeem = await server.app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/redemptions`,
      headers: t.auth,
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

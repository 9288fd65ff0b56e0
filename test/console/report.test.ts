import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { useConsole } from './fixture.ts';

const DAY = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const label = (t: number) => `${MONTHS[new Date(t).getUTCMonth()]} ${new Date(t).getUTCDate()}`;

describe('console: redemptions and the depletion chart on the pool page', () => {
  const threeDaysAgo = Date.now() - 3 * DAY;
  let poolId: string;
  const { page } = useConsole({
    account: 'Report Co',
    async seed({ call, server, t, pool, upload, assign }) {
      poolId = (await pool('Spring')).id;
      await upload(poolId, Array.from({ length: 40 }, (_, i) => `SPRING-${i}`).join('\n'));
      const codes: string[] = [];
      for (let i = 0; i < 8; i++) codes.push((await assign(poolId, `s${i}@example.com`, `k${i}`)).code);
      for (let i = 0; i < 2; i++)
        await call('POST', `/v1/merchants/${t.merchantId}/redemptions`, {
          code: codes[i],
          orderId: `o-${i}`,
          amount: 19.9,
          currency: 'EUR',
        });
      // Three ended days as the job records them (this server runs on the real clock: the pool is
      // new today, so its recorded days are written here the way the job writes them).
      const key = (await sql<{ key: number }>`select key from pools where id = ${poolId}`.execute(server.database.database.db)).rows[0]!
        .key;
      for (const [i, [assigned, redeemed, available]] of [
        [5, 1, 60],
        [7, 3, 53],
        [4, 2, 49],
      ].entries()) {
        await sql`insert into pool_daily_history (account_id, pool_key, day, assigned, redeemed, available, recorded_at)
        values (${t.accountId}, ${key}, ${isoDay(threeDaysAgo + i * DAY)}::date, ${assigned}, ${redeemed}, ${available}, now())`.execute(
          server.database.database.db,
        );
      }
    },
    viewport: { width: 1280, height: 900 },
    signIn: { at: () => `#/pools/${poolId}`, ready: (page) => page.getByRole('heading', { name: /Spring/ }) },
  });

  it('shows redeemed, the rate and the revenue after redemptions', async () => {
    await expect.poll(() => page.locator('[data-count="redemptionRate"] dd').textContent()).toBe('25%'); // 2 of 8 assignments
    expect(await page.locator('[data-count="redeemed"] dd').textContent()).toBe('2');
    expect(await page.locator('[data-count="revenue"] dd').textContent()).toBe('39.80 EUR');
  });

  it('draws the chart with date and value axis labels, and answers values on hover', async () => {
    const chart = page.locator('figure.chart');
    await chart.locator('svg').first().waitFor();
    const ticks = await chart.locator('svg').first().locator('.x-tick text').allTextContents();
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.every((t) => /^[A-Z][a-z]{2} \d{1,2}$|^[A-Z][a-z]{2} \d{4}$/.test(t))).toBe(true);
    // The value axis reaches the highest recorded count (60) with round steps.
    const values = (await chart.locator('svg').first().locator('text.tick').allTextContents())
      .filter((t) => /^[\d,]+$/.test(t))
      .map(Number);
    expect(values[0]).toBe(0);
    expect(Math.max(...values)).toBeGreaterThanOrEqual(60);
    expect(await chart.getByText('Available codes', { exact: true }).count()).toBe(1);

    // Hover over the second recorded day: its recorded figures; over today: today's so far.
    const overlay = chart.getByTestId('chart-overlay').first();
    const box = (await overlay.boundingBox())!;
    const tip = chart.getByRole('status');
    const across = async (fraction: number) => {
      await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
    };
    // Find the day by sweeping the pointer: the tip names the day under it.
    let found = '';
    for (let f = 0.01; f < 0.5 && !found.includes(label(threeDaysAgo + DAY)); f += 0.005) {
      await across(f);
      found = (await tip.textContent()) ?? '';
    }
    expect(found).toContain(`${label(threeDaysAgo + DAY)}`);
    expect(found).toContain('53 available at day end, 7 assigned, 3 redeemed');
    for (let f = 0.01; f < 0.9 && !found.includes('today'); f += 0.005) {
      await across(f);
      found = (await tip.textContent()) ?? '';
    }
    expect(found).toMatch(/today so far.*32 available now, 8 assigned, 2 redeemed/);
    // The forecast: 8 codes handed out in the last 7 days, dashed ahead.
    expect(await chart.locator('path.forecast').count()).toBe(1);
    expect(await chart.locator('figcaption').textContent()).toMatch(/Forecast at 1\.1 codes a day/);
    // The per-day panel draws a bar pair per past day.
    expect(await chart.locator('rect.bar-redeemed').count()).toBe(4);
  }, 60_000);
});

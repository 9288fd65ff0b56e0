import { describe, expect, it } from 'vitest';
import { shopifyHeaders } from '../helpers/redemption-sources.ts';
import { useConsole } from './fixture.ts';

const SECRET = 'shpss_console_0123456789abcdef0123';

describe('console: the Integrations screen (Shopify)', () => {
  let code: string;
  const { server, page, t } = useConsole({
    account: 'Shopify Co',
    merchant: { name: 'Boot Shop', domain: 'boots.example.com' },
    async seed({ pool, upload, assign }) {
      const poolId = (await pool('Boots10')).id;
      await upload(poolId, ['BOOT-1', 'BOOT-2'], { expiration: 'none' });
      code = (await assign(poolId, 'ann@example.com', 'k1')).code;
    },
    pageTimeout: 20_000,
    signIn: { at: '#/integrations', ready: (page) => page.getByRole('heading', { name: 'Integrations' }) },
  });

  const hookUrl = () => `${server.url}/v1/merchants/${t.merchantId}/integrations/shopify/webhooks`;

  it('shows the webhook URL to paste into Shopify; the secret saves and is never shown back', { timeout: 60_000 }, async () => {
    await page.getByText(hookUrl(), { exact: true }).waitFor();
    await page.getByText('not connected').waitFor();
    await page.getByText('No deliveries yet').waitFor();
    const secret = page.getByLabel('Webhook signing secret');
    expect(await secret.getAttribute('type')).toBe('password');
    await secret.fill(SECRET);
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText('connected', { exact: true }).waitFor();
    expect(await secret.inputValue()).toBe('');
    await page.getByText(/never shown again/).waitFor();
    // Neither the page (after a reload) nor the API it reads shows the secret.
    await page.reload();
    await page.getByText('connected', { exact: true }).waitFor();
    expect(await page.content()).not.toContain(SECRET);
    const status = await fetch(`${server.url}/v1/merchants/${t.merchantId}/integrations/shopify`, { headers: t.auth });
    const statusBody = await status.text();
    expect(JSON.parse(statusBody)).toMatchObject({ configured: true, webhookUrl: hookUrl() });
    expect(statusBody).not.toContain(SECRET);
  });

  it(
    'lists a signed orders/create delivered over HTTP with its result; a badly signed one is refused and not listed',
    { timeout: 60_000 },
    async () => {
      const order = JSON.stringify({
        id: 4501,
        email: 'ann@example.com',
        currency: 'EUR',
        total_price: '90.00',
        created_at: '2026-03-01T13:00:00+01:00',
        discount_codes: [{ code, amount: '10.00', type: 'fixed_amount' }],
      });
      const post = (secret: string, webhookId: string) =>
        fetch(hookUrl(), {
          method: 'POST',
          headers: shopifyHeaders({ body: order, secret, topic: 'orders/create', webhookId, shop: 'boots.myshopify.com' }),
          body: order,
        });
      const bad = await post('not-the-secret', 'wh-bad');
      expect(bad.status).toBe(401);
      const good = await post(SECRET, 'wh-good');
      expect(good.status, await good.text()).toBe(200);

      await page.reload();
      const table = page.getByRole('table', { name: 'Last deliveries' });
      const row = table.getByRole('row').filter({ hasText: '4501' });
      await expect.poll(async () => (await row.textContent()) ?? '').toContain('processed');
      const text = (await row.textContent())!;
      expect(text).toContain('orders/create');
      expect(text).toContain(`${code} redeemed`);
      expect(text).toContain('order_placed sent');
      expect(await table.getByRole('row').count()).toBe(2); // the header and the one good delivery
    },
  );
});

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildConsole, launchBrowser, startServer, type ConsoleServer } from './browser.ts';
import { multipart } from '../helpers/multipart.ts';

const SECRET = 'shpss_console_0123456789abcdef0123';

describe('console: the Integrations screen (Shopify)', () => {
  let server: ConsoleServer;
  let built: Awaited<ReturnType<typeof buildConsole>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let auth: { authorization: string };
  let merchantId: string;
  let code: string;

  beforeAll(async () => {
    built = await buildConsole();
    server = await startServer(built.dir);
    const tenant = await server.app.services.accounts.createAccountFromCli({ name: 'Shopify Co' });
    auth = { authorization: `Bearer ${tenant.token}` };
    const inject = (method: 'POST' | 'GET', url: string, payload?: object) =>
      server.app.http.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    merchantId = (await inject('POST', '/v1/merchants', { name: 'Boot Shop', domain: 'boots.example.com' })).json().id;
    const poolId = (await inject('POST', `/v1/merchants/${merchantId}/pools`, { name: 'Boots10', type: 'unique' })).json().id;
    const body = multipart({ expiration: 'none' }, { content: 'BOOT-1\nBOOT-2\n' });
    const up = await server.app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/uploads`,
      headers: { ...auth, ...body.headers },
      payload: body.payload,
    });
    expect(up.statusCode, up.body).toBe(201);
    const assigned = await inject('POST', `/v1/pools/${poolId}/assignments`, { email: 'ann@example.com', idempotencyKey: 'k1' });
    expect(assigned.statusCode, assigned.body).toBe(201);
    code = assigned.json().code;
    browser = await launchBrowser();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
    await page.goto(`${server.url}/#/integrations`);
    await page.getByRole('button', { name: 'Use an API token instead' }).click();
    await page.getByLabel('API token').fill(tenant.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Integrations' }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await built?.remove();
  });

  const hookUrl = () => `${server.url}/v1/merchants/${merchantId}/integrations/shopify/webhooks`;

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
    const status = await fetch(`${server.url}/v1/merchants/${merchantId}/integrations/shopify`, { headers: auth });
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
      const post = (hmac: string, webhookId: string) =>
        fetch(hookUrl(), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-shopify-topic': 'orders/create',
            'x-shopify-hmac-sha256': hmac,
            'x-shopify-webhook-id': webhookId,
            'x-shopify-shop-domain': 'boots.myshopify.com',
          },
          body: order,
        });
      const bad = await post(createHmac('sha256', 'not-the-secret').update(order).digest('base64'), 'wh-bad');
      expect(bad.status).toBe(401);
      const good = await post(createHmac('sha256', SECRET).update(order).digest('base64'), 'wh-good');
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

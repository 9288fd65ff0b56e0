import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';
import { runsHandedCodes, shopifyHeaders, shopifySignature } from '../helpers/redemption-sources.ts';

type App = Awaited<ReturnType<typeof testApp>>;
const SECRET = 'shpss_0123456789abcdef0123456789abcdef';

/** A body shaped like Shopify's documented orders/create payload (trimmed to realistic fields). */
const orderBody = (o: { id: number; email: string; codes: { code: string; amount: string }[]; currency?: string; total?: string }) =>
  JSON.stringify({
    id: o.id,
    admin_graphql_api_id: `gid://shopify/Order/${o.id}`,
    email: o.email,
    created_at: '2026-03-01T13:00:00+01:00',
    currency: o.currency ?? 'EUR',
    total_price: o.total ?? '90.00',
    subtotal_price: '100.00',
    financial_status: 'pending',
    discount_codes: o.codes.map((c) => ({ code: c.code, amount: c.amount, type: 'fixed_amount' })),
    line_items: [{ id: 1, title: 'Shoes', quantity: 1, price: '100.00' }],
  });

const sign = (body: string | Buffer, secret = SECRET) => shopifySignature(body, secret);

describeEachEngine('Shopify orders webhook', (ctx) => {
  let app: App;
  let t: TestTenant;
  let a: ReturnType<typeof api>;
  let hookUrl: string;
  let conversationId: string;
  let code: string;
  const email = 'alice@example.com';

  const deliver = (body: string | Buffer, headers: Record<string, string>, merchantId = t.merchantId) =>
    app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${merchantId}/integrations/shopify/webhooks`,
      headers: { 'content-type': 'application/json', 'x-shopify-shop-domain': 'shop.myshopify.com', ...headers },
      payload: body,
    });
  const signed = (body: string, topic: string, webhookId: string) =>
    deliver(body, shopifyHeaders({ body, secret: SECRET, topic, webhookId }));
  const db = () => ctx.database.db;
  const counts = async () => ({
    deliveries: Number(
      (
        await db()
          .selectFrom('shopify_deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', t.accountId)
          .executeTakeFirstOrThrow()
      ).n,
    ),
    redemptions: Number(
      (
        await db()
          .selectFrom('redemptions')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', t.accountId)
          .executeTakeFirstOrThrow()
      ).n,
    ),
    events: Number(
      (
        await db()
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('account_id', '=', t.accountId)
          .where('type', '=', 'order_placed')
          .executeTakeFirstOrThrow()
      ).n,
    ),
  });

  beforeAll(async () => {
    app = await testApp(ctx.database, { config: { PUBLIC_URL: 'https://coupons.example.com' } });
    t = await newTenant(app);
    a = api(app, t);
    const { conversation, runs } = await runsHandedCodes(app, a, t.merchantId, 'SHOP-AAAA\nSHOP-BBBB\nSHOP-CCCC\n', [email]);
    expect(conversation.exitOnRedemption).toBe(true);
    conversationId = conversation.id;
    const [run] = runs;
    expect(run.status).toBe('active');
    code = run.steps[0].code;
    expect(code).toMatch(/^SHOP-/);
    const res = await a.call('PUT', `/v1/merchants/${t.merchantId}/integrations/shopify`, { webhookSecret: SECRET }, 200);
    hookUrl = res.webhookUrl;
  }, 60_000);
  afterAll(() => app.http.close());

  it('answers the URL to paste, keeps the secret sealed and never shows it', async () => {
    expect(hookUrl).toBe(`https://coupons.example.com/v1/merchants/${t.merchantId}/integrations/shopify/webhooks`);
    const row = await db().selectFrom('shopify_integrations').selectAll().where('merchant_id', '=', t.merchantId).executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(SECRET);
    expect(row.secret_sealed).not.toContain(Buffer.from(SECRET).toString('base64'));
    const status = await a.call('GET', `/v1/merchants/${t.merchantId}/integrations/shopify`, undefined, 200);
    expect(status).toMatchObject({ configured: true, webhookUrl: hookUrl });
    expect(JSON.stringify(status)).not.toContain(SECRET);
  });

  it('refuses a flipped byte, a missing signature and a merchant without a secret (401), recording nothing', async () => {
    const before = await counts();
    const body = orderBody({ id: 1001, email, codes: [{ code, amount: '10.00' }] });
    const flipped = Buffer.from(body);
    flipped[flipped.length - 5] = flipped[flipped.length - 5]! ^ 0x01;
    const bad = await deliver(flipped, {
      'x-shopify-hmac-sha256': sign(body),
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'wh-flip',
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('invalid_signature');
    const missing = await deliver(body, { 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'wh-missing' });
    expect(missing.statusCode).toBe(401);
    const wrongKey = await deliver(body, {
      'x-shopify-hmac-sha256': sign(body, 'another-secret-entirely'),
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'wh-wrong',
    });
    expect(wrongKey.statusCode).toBe(401);
    const other = await a.call('POST', '/v1/merchants', { name: 'No Shopify', domain: 'none.example.com' }, 201);
    const noSecret = await deliver(
      body,
      { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'wh-nosecret' },
      other.id,
    );
    expect(noSecret.statusCode).toBe(401);
    expect(await counts()).toEqual(before);
    const [run] = await a.enrollments(conversationId);
    expect(run.status).toBe('active');
  });

  it('orders/create with a good signature: a shopify redemption, an order_placed event, and the run ends "redeemed"', async () => {
    const body = orderBody({
      id: 1001,
      email,
      codes: [
        { code, amount: '10.00' },
        { code: 'NOT-OURS', amount: '5.00' },
      ],
      total: '85.00',
    });
    const res = await signed(body, 'orders/create', 'wh-1');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      result: 'processed',
      event: 'recorded',
      redemptions: [
        { code, recorded: true },
        { code: 'NOT-OURS', recorded: false, reason: 'code_not_found' },
      ],
    });
    const list = await a.call('GET', `/v1/merchants/${t.merchantId}/redemptions?orderId=1001`, undefined, 200);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      code,
      orderId: '1001',
      source: 'shopify',
      amount: '10.00',
      currency: 'EUR',
      rolledBackAt: null,
      redeemedAt: '2026-03-01T12:00:00.000Z',
    });
    const events = await db()
      .selectFrom('events')
      .selectAll()
      .where('account_id', '=', t.accountId)
      .where('type', '=', 'order_placed')
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.properties).toEqual({ orderId: '1001', totalPrice: '85.00', currency: 'EUR', couponCodes: [code, 'NOT-OURS'] });
    const [run] = await a.enrollments(conversationId);
    expect(run).toMatchObject({ status: 'exited', exitReason: 'redeemed' });
  });

  it('a repeated X-Shopify-Webhook-Id does nothing new; orders/paid of the same order adds no second redemption or event', async () => {
    const before = await counts();
    const body = orderBody({ id: 1001, email, codes: [{ code, amount: '10.00' }] });
    const again = await signed(body, 'orders/create', 'wh-1');
    expect(again.statusCode).toBe(200);
    expect(again.json().result).toBe('duplicate');
    expect(await counts()).toEqual(before);
    const paid = await signed(body, 'orders/paid', 'wh-1-paid');
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ result: 'processed', event: 'already_recorded', redemptions: [{ code, recorded: false }] });
    expect(await counts()).toEqual({ ...before, deliveries: before.deliveries + 1 });
  });

  it('another order with the same unique code is reported, not recorded (lenient, but one order per unique code)', async () => {
    const res = await signed(
      orderBody({ id: 1002, email: 'bob@example.com', codes: [{ code, amount: '10.00' }] }),
      'orders/create',
      'wh-2',
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().redemptions).toEqual([{ code, recorded: false, reason: 'already_redeemed' }]);
  });

  it('orders/cancelled rolls the order back: the code is redeemable again', async () => {
    const res = await signed(
      JSON.stringify({ id: 1001, email, cancelled_at: '2026-03-02T10:00:00Z', cancel_reason: 'customer' }),
      'orders/cancelled',
      'wh-cancel',
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ result: 'processed', rolledBack: [code] });
    const list = await a.call('GET', `/v1/merchants/${t.merchantId}/redemptions?orderId=1001`, undefined, 200);
    expect(list.items[0].rolledBackAt).not.toBeNull();
    const validate = await a.call('POST', `/v1/merchants/${t.merchantId}/codes/validate`, { code }, 200);
    expect(validate).toMatchObject({ valid: true, reason: null });
  });

  it('an unknown topic is answered 200, ignored and logged as a delivery', async () => {
    const before = await counts();
    const res = await signed(JSON.stringify({ id: 77, title: 'A product' }), 'products/update', 'wh-product');
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toBe('ignored');
    expect(await counts()).toEqual({ ...before, deliveries: before.deliveries + 1 });
  });

  it('a malformed body with a good signature is 422 and recorded as a failed delivery', async () => {
    const before = await counts();
    const notJson = await signed('{"id": 12, "discount_codes": [', 'orders/create', 'wh-bad-json');
    expect(notJson.statusCode).toBe(422);
    expect(notJson.json().error.code).toBe('invalid_order');
    const notOrder = await signed(JSON.stringify({ email: 'x@example.com', discount_codes: 'SAVE' }), 'orders/create', 'wh-bad-shape');
    expect(notOrder.statusCode).toBe(422);
    expect(await counts()).toEqual({ ...before, deliveries: before.deliveries + 2 });
    const status = await a.call('GET', `/v1/merchants/${t.merchantId}/integrations/shopify`, undefined, 200);
    const failed = status.deliveries.filter((d: { result: string }) => d.result === 'failed');
    expect(failed.map((d: { webhookId: string }) => d.webhookId).sort()).toEqual(['wh-bad-json', 'wh-bad-shape']);
  });

  it('applies the body size limit (413)', async () => {
    const huge = JSON.stringify({ id: 5, padding: 'x'.repeat(1024 * 1024 + 10) });
    const res = await signed(huge, 'orders/create', 'wh-huge');
    expect(res.statusCode).toBe(413);
  });
});

import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServer } from './server.ts';

/**
 * `npm run bench -- shopify`: intake of ORDERS signed Shopify orders/create webhooks (each with one
 * discount code of the merchant's pool and a new customer's email), 4 deliveries in flight, against
 * `couponflow serve` on PostgreSQL. Baseline in the same run, same server: the same number of
 * `POST /v1/events` (order_placed for a new email, the part of the intake that is not Shopify's),
 * 4 in flight. Goal: ≥ 1,000 orders/s.
 */
const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ORDERS = Number(process.env.BENCH_SHOPIFY_ORDERS ?? 10_000);
const CONCURRENCY = 4;
const SECRET = 'shpss_bench_0123456789abcdef0123456789';

async function inFlight(n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return performance.now() - started;
}

export async function run(): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const server = await startServer({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, SERVE_WORKERS: 'false' });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown> & { items?: { id: string }[] }>;
    };
    const merchantId = (await call('GET', '/v1/merchants')).items![0]!.id;
    const pool = await call('POST', `/v1/merchants/${merchantId}/pools`, { name: 'shopify bench', type: 'unique' });
    // The codes, straight through SQL (uploads have their own benchmark).
    await admin.query(`set search_path to ${schema}`);
    const { rows } = await admin.query<{ key: string; account_id: string }>('select key, account_id from pools where id = $1', [pool.id]);
    const { key, account_id: accountId } = rows[0]!;
    await admin.query(
      `insert into codes (account_id, pool_key, code, expires_at) select $1, $2, 'SHOP' || g, 'infinity' from generate_series(1, $3::int) g`,
      [accountId, key, ORDERS],
    );
    await admin.query(
      `insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned) values ($1, $2, 'infinity', 0, $3, $3)`,
      [accountId, key, ORDERS],
    );
    await admin.query('analyze codes');
    const { webhookUrl } = (await call('PUT', `/v1/merchants/${merchantId}/integrations/shopify`, { webhookSecret: SECRET })) as {
      webhookUrl: string;
    };
    const hook = new URL(webhookUrl).pathname;

    const bodies = Array.from({ length: ORDERS }, (_, i) =>
      JSON.stringify({
        id: 5_000_000 + i,
        email: `buyer${i}@example.com`,
        currency: 'EUR',
        total_price: '90.00',
        created_at: '2026-03-01T13:00:00+01:00',
        discount_codes: [{ code: `SHOP${i + 1}`, amount: '10.00', type: 'fixed_amount' }],
        line_items: [{ id: 1, title: 'Shoes', quantity: 1, price: '100.00' }],
      }),
    );
    const signatures = bodies.map((b) => createHmac('sha256', SECRET).update(b).digest('base64'));
    let failures = 0;
    const sent = performance.now();
    const shopifyMs = await inFlight(ORDERS, CONCURRENCY, async (i) => {
      const res = await fetch(`${server.url}${hook}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': signatures[i]!,
          'x-shopify-webhook-id': `bench-${i}`,
        },
        body: bodies[i]!,
      });
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
      // Progress on stderr (a run cut short still says how far it got, and how fast).
      if ((i + 1) % 1000 === 0) console.error(`  shopify: ${i + 1} orders sent after ${((performance.now() - sent) / 1000).toFixed(1)} s`);
    });
    const recorded = Number((await admin.query(`select count(*) as n from redemptions where source = 'shopify'`)).rows[0].n);

    const baselineMs = await inFlight(ORDERS, CONCURRENCY, async (i) => {
      const res = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          type: 'order_placed',
          email: `baseline${i}@example.com`,
          properties: { orderId: String(9_000_000 + i), totalPrice: '90.00', currency: 'EUR', couponCodes: [] },
        }),
      });
      await res.arrayBuffer();
      if (res.status !== 202) failures++;
    });
    const perSecond = (ms: number) => Math.round(ORDERS / (ms / 1000));
    const shopify = perSecond(shopifyMs);
    const baseline = perSecond(baselineMs);
    console.log(
      `shopify intake (PostgreSQL, ${CONCURRENCY} in flight): ${ORDERS} signed orders/create in ${(shopifyMs / 1000).toFixed(2)} s = ${shopify} orders/s; ${recorded} redemptions recorded; goal ≥ 1000 orders/s: ${shopify >= 1000 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `baseline POST /v1/events (order_placed, ${CONCURRENCY} in flight, same server): ${baseline} events/s; ratio ${(shopify / baseline).toFixed(2)}`,
    );
    if (failures) console.log(`failed requests: ${failures}`);
  } finally {
    await server.stop();
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => {});
    await admin.end();
  }
}

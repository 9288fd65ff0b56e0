import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';
import { startReceiver, verifySignature, type Received } from './receiver.ts';

type App = Awaited<ReturnType<typeof testApp>>;

describeEachEngine('outgoing webhooks', (ctx) => {
  let app: App;
  let t: TestTenant;
  let a: ReturnType<typeof api>;
  let script: (n: number, r: Received) => number | null = () => 200;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const secret = 'whsec_test_0123456789abcdef';

  const queue = (webhookId: string) =>
    ctx.database.db.selectFrom('webhook_queue').selectAll().where('webhook_id', '=', webhookId).orderBy('event_id').execute();
  const remove = async (id: string) =>
    expect((await app.http.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: t.auth })).statusCode).toBe(204);
  const hook = async (events: string[], url = receiver.url) =>
    (await a.call('POST', '/v1/webhooks', { url, events, secret }, 201)) as { id: string; secret: string };

  beforeAll(async () => {
    app = await testApp(ctx.database, { config: { WEBHOOKS_ALLOW_PRIVATE: true, WEBHOOK_MAX_ATTEMPTS: 3, WEBHOOK_RETRY_SECONDS: 10 } });
    t = await newTenant(app);
    a = api(app, t);
    receiver = await startReceiver((n, r) => script(n, r));
  });
  afterAll(async () => {
    await receiver.close();
    await app.http.close();
  });
  const reset = (respond: (n: number, r: Received) => number | null) => {
    receiver.posts.length = 0;
    receiver.accepted.length = 0;
    script = respond;
  };

  it('delivers code.assigned as a signed JSON array that verifies with the secret; the secret is shown once', async () => {
    reset(() => 200);
    const created = await hook(['code.assigned']);
    expect(created.secret).toBe(secret);
    const listed = await a.call('GET', '/v1/webhooks', undefined, 200);
    expect(listed.items.find((w: { id: string }) => w.id === created.id)).toEqual({
      id: created.id,
      url: receiver.url,
      events: ['code.assigned'],
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(listed)).not.toContain(secret);
    const pool = await a.pool({});
    await a.upload(pool.id, 'W-1\nW-2\nW-3\nW-4\nW-5\nW-6\n', { expiration: 'none' });
    for (let i = 0; i < 5; i++)
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `c${i}@example.com`, idempotencyKey: `k${i}` }, 201);
    expect(await queue(created.id)).toHaveLength(5);
    const report = await app.services.webhooks.deliverDue();
    expect(report).toMatchObject({ posts: 1, delivered: 5 });
    // Batched: one POST carrying all five, each event with its own id.
    expect(receiver.posts).toHaveLength(1);
    const [post] = receiver.posts;
    expect(verifySignature(secret, post!.signature, post!.body)).toBe(true);
    expect(verifySignature('whsec_another_secret_value', post!.signature, post!.body)).toBe(false);
    expect(verifySignature(secret, post!.signature, post!.body.replace('W-', 'X-'))).toBe(false);
    expect(post!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(new Set(post!.events.map((e) => e.id)).size).toBe(5);
    expect(post!.events[0]).toMatchObject({
      type: 'code.assigned',
      data: { poolId: pool.id, merchantId: t.merchantId, source: 'unique', code: expect.stringMatching(/^W-/) },
    });
    await remove(created.id);
  });

  it('a receiver failing twice then accepting gets each event once; every attempt is logged with status and latency', async () => {
    reset((n) => (n <= 2 ? 500 : 200));
    const created = await hook(['code.redeemed']);
    const pool = await a.pool({});
    await a.upload(pool.id, 'R-1\nR-2\n', { expiration: 'none' });
    for (const n of [1, 2]) {
      const given = await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `r${n}@example.com`, idempotencyKey: `r${n}` }, 201);
      await a.call('POST', `/v1/merchants/${t.merchantId}/redemptions`, { code: given.code, orderId: `order-${n}` }, 201);
    }
    // A refused redemption causes no event.
    const refused = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/redemptions`,
      headers: t.auth,
      payload: { code: 'R-1', orderId: 'order-x' },
    });
    expect(refused.statusCode).toBe(409);
    expect(await queue(created.id)).toHaveLength(2);
    expect((await app.services.webhooks.deliverDue()).retrying).toBe(2);
    // Not due before the backoff has passed.
    expect((await app.services.webhooks.deliverDue()).posts).toBe(0);
    app.clock.advance(10_000);
    expect((await app.services.webhooks.deliverDue()).retrying).toBe(2);
    app.clock.advance(20_000);
    expect((await app.services.webhooks.deliverDue()).delivered).toBe(2);
    expect(receiver.posts).toHaveLength(3);
    const ids = receiver.accepted.flatMap((p) => p.events.map((e) => e.id));
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(receiver.accepted[0]!.events.map((e) => e.data.orderId).sort()).toEqual(['order-1', 'order-2']);
    const log = await a.call('GET', `/v1/webhooks/${created.id}/deliveries`, undefined, 200);
    expect(log.items.map((d: { statusCode: number; outcome: string }) => [d.statusCode, d.outcome])).toEqual([
      [200, 'delivered'],
      [500, 'retrying'],
      [500, 'retrying'],
    ]);
    for (const d of log.items) expect(d.latencyMs).toEqual(expect.any(Number));
    expect(log.queue).toEqual({ queued: 0, delivered: 2, failed: 0 });
    await remove(created.id);
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS: the events end failed and are not tried again', async () => {
    reset(() => 503);
    const created = await hook(['contact.unsubscribed']);
    await a.call('PUT', '/v1/contacts', { email: 'leaver@example.com' }, 200);
    const contact = await a.call('GET', `/v1/contacts?email=leaver@example.com`, undefined, 200);
    const contactId = contact.id ?? contact.items?.[0]?.id;
    const link = (await app.services.unsubscribe.linkMaker())(t.accountId, contactId);
    const token = new URL(link).pathname.split('/').pop()!;
    expect((await app.http.inject({ method: 'POST', url: `/u/${token}` })).statusCode).toBe(200);
    // Following the link again changes nothing: no second event.
    expect((await app.http.inject({ method: 'POST', url: `/u/${token}` })).statusCode).toBe(200);
    expect(await queue(created.id)).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      await app.services.webhooks.deliverDue();
      app.clock.advance(3_600_000);
    }
    expect(await app.services.webhooks.deliverDue()).toMatchObject({ posts: 0 });
    const [row] = await queue(created.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, type: 'contact.unsubscribed' });
    expect(receiver.posts).toHaveLength(3);
    expect(receiver.posts[0]!.events[0]!.data).toEqual({ contactId, email: 'leaver@example.com' });
    const log = await a.call('GET', `/v1/webhooks/${created.id}/deliveries`, undefined, 200);
    expect(log.items[0]).toMatchObject({ statusCode: 503, outcome: 'failed' });
    await remove(created.id);
  });

  it('pool.low and pool.exhausted come with the notice that the crossing sends', async () => {
    reset(() => 200);
    const created = await hook(['pool.low', 'pool.exhausted']);
    const pool = await a.pool({ threshold: 1, notificationEmails: 'ops@example.com' });
    await a.upload(pool.id, 'L-1\nL-2\nL-3\n', { expiration: 'none' });
    for (const n of [1, 2, 3])
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `l${n}@example.com`, idempotencyKey: `l${n}` }, 201);
    const rows = await queue(created.id);
    expect(rows.map((r) => r.type)).toEqual(['pool.low', 'pool.exhausted']);
    expect((rows[0]!.payload as { data: object }).data).toMatchObject({ poolId: pool.id, available: 1, threshold: 1 });
    await remove(created.id);
    expect(await queue(created.id)).toHaveLength(0);
  });

  it('writes nothing for events no webhook subscribes to', async () => {
    const created = await hook(['pool.exhausted']);
    const pool = await a.pool({});
    await a.upload(pool.id, 'N-1\nN-2\n', { expiration: 'none' });
    await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 'n@example.com', idempotencyKey: 'n1' }, 201);
    expect(await queue(created.id)).toHaveLength(0);
    await remove(created.id);
  });

  it('refuses non-http(s) and loopback/link-local/private targets unless WEBHOOKS_ALLOW_PRIVATE=true, also at delivery', async () => {
    const strict = await testApp(ctx.database);
    strict.clock.set(app.clock.now());
    try {
      const post = (url: string) =>
        strict.http.inject({ method: 'POST', url: '/v1/webhooks', headers: t.auth, payload: { url, events: ['code.assigned'] } });
      for (const url of [
        receiver.url,
        'http://localhost:9/x',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]:8080/',
        'http://10.1.2.3/',
        'http://192.168.0.10/',
        'http://[::ffff:127.0.0.1]/',
        'ftp://example.com/x',
        'file:///etc/passwd',
      ]) {
        const res = await post(url);
        expect(res.statusCode, url).toBe(422);
        expect(res.json().error.code, url).toBe('webhook_url_refused');
      }
      // A webhook saved where private targets were allowed is still refused by a sender that does not allow them.
      reset(() => 200);
      const created = await hook(['code.assigned']);
      const pool = await a.pool({});
      await a.upload(pool.id, 'S-1\n', { expiration: 'none' });
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: 's@example.com', idempotencyKey: 's1' }, 201);
      expect((await strict.services.webhooks.deliverDue()).retrying).toBe(1);
      expect(receiver.posts).toHaveLength(0);
      const log = await a.call('GET', `/v1/webhooks/${created.id}/deliveries`, undefined, 200);
      expect(log.items[0]).toMatchObject({ statusCode: null, outcome: 'retrying', error: expect.stringMatching(/private address/) });
      await remove(created.id);
    } finally {
      await strict.http.close();
    }
  });
});

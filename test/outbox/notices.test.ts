import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

/** Threshold and exhausted notices, delivered through the outbox. */
describeEachEngine('pool notices', (ctx) => {
  const { app, t } = useTenant(ctx);

  let n = 0;
  const newPool = async (settings: object) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `notice-pool-${++n}`, type: 'unique', ...settings },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; name: string };
  };
  const upload = async (poolId: string, content: string, fields: Record<string, string> = {}) => {
    const body = multipart(fields, { content });
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const codes = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`).join('\n') + '\n';
  let contact = 0;
  const assign = async (poolId: string) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/assignments`,
      headers: t.auth,
      payload: { email: `c${++contact}@example.com`, idempotencyKey: `k${contact}` },
    });
    return res;
  };
  const notices = async (to: string) => {
    const res = await app.http.inject({ method: 'GET', url: `/v1/outbox?to=${encodeURIComponent(to)}&kind=notification`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(200);
    return (
      res.json().items as { subject: string; text: string; html: string; status: string; kind: string; to: string; messageId: string }[]
    ).reverse();
  };
  const pool = async (id: string) => (await app.http.inject({ method: 'GET', url: `/v1/pools/${id}`, headers: t.auth })).json();

  it('sends one notice per crossing to every address, re-armed only above the threshold, then one exhausted notice', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const p = await newPool({ threshold: 3, notificationEmails: ['ops@example.com', 'buyer@example.com'] });
    await upload(p.id, codes('T', 5));
    expect(await notices('ops@example.com')).toEqual([]);

    await assign(p.id); // 4 left
    expect(await notices('ops@example.com')).toEqual([]);
    await assign(p.id); // 3 left: at the threshold
    const [first, ...more] = await notices('ops@example.com');
    expect(more).toEqual([]);
    expect(first).toMatchObject({ kind: 'notification', status: 'sent', to: 'ops@example.com' });
    expect(first!.subject).toBe(`Coupon pool "${p.name}" is low: 3 codes left`);
    expect(first!.text).toContain('Available codes: 3');
    // The forecast is the pool's own: 2 assignments in the last 7 days, 3 left.
    const runsOutAt = (await pool(p.id)).runsOutAt as string;
    expect(runsOutAt).not.toBeNull();
    expect(first!.text).toContain(`Forecast run-out date: ${runsOutAt.slice(0, 10)}`);
    const merchant = (await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: t.auth })).json().items[0];
    expect(first!.text).toContain(`The coupon pool "${p.name}" of merchant "${merchant.name}" is at or below its threshold of 3.`);
    expect(first!.html).toContain('<p>Available codes: 3</p>');
    expect(await notices('buyer@example.com')).toHaveLength(1);

    await assign(p.id); // 2 left: still below, no second notice
    expect(await notices('ops@example.com')).toHaveLength(1);

    await upload(p.id, codes('U', 3)); // 5 left: above again, re-armed
    expect(await notices('ops@example.com')).toHaveLength(1);
    await assign(p.id); // 4
    await assign(p.id); // 3: a second crossing
    expect((await notices('ops@example.com')).map((m) => m.subject)).toEqual([
      `Coupon pool "${p.name}" is low: 3 codes left`,
      `Coupon pool "${p.name}" is low: 3 codes left`,
    ]);

    for (let i = 0; i < 3; i++) expect((await assign(p.id)).statusCode).toBe(201);
    const afterEmpty = await notices('ops@example.com');
    expect(afterEmpty.map((m) => m.subject)).toEqual([
      `Coupon pool "${p.name}" is low: 3 codes left`,
      `Coupon pool "${p.name}" is low: 3 codes left`,
      `Coupon pool "${p.name}" has run out of codes`,
    ]);
    expect(afterEmpty[2]!.text).toContain('Available codes: 0');
    // Asked again while empty: pool_exhausted, and no further notice.
    expect((await assign(p.id)).statusCode).toBe(409);
    expect(await notices('ops@example.com')).toHaveLength(3);
    // Every mail has its own Message-ID.
    expect(new Set(afterEmpty.map((m) => m.messageId)).size).toBe(3);
  });

  it('the periodic check notices codes that expire or enter the cutoff without any assignment', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const p = await newPool({ threshold: 2, expirationCutoffDays: 3, notificationEmails: ['watch@example.com'] });
    await upload(p.id, 'E1,2026-03-10\nE2,2026-03-10\nE3,2026-03-20\nE4,2026-03-20\nE5,2026-03-30\n', { expiration: 'file' });
    await app.services.assignments.checkAllPools();
    expect(await notices('watch@example.com')).toEqual([]);

    app.clock.set('2026-03-08T12:00:00Z'); // E1, E2 within the 3-day cutoff: 3 left
    await app.services.assignments.checkAllPools();
    expect(await notices('watch@example.com')).toEqual([]);
    app.clock.set('2026-03-18T12:00:00Z'); // E3, E4 within the cutoff too: 1 left
    await app.services.assignments.checkAllPools();
    await app.services.assignments.checkAllPools(); // twice: still one notice
    let mails = await notices('watch@example.com');
    expect(mails.map((m) => m.subject)).toEqual([`Coupon pool "${p.name}" is low: 1 code left`]);
    expect(mails[0]!.text).toContain('Forecast run-out date: unknown');
    app.clock.set('2026-04-01T00:00:00Z'); // everything expired
    await app.services.assignments.checkAllPools();
    mails = await notices('watch@example.com');
    expect(mails.map((m) => m.subject)).toEqual([
      `Coupon pool "${p.name}" is low: 1 code left`,
      `Coupon pool "${p.name}" has run out of codes`,
    ]);
  });

  it('sends exactly one notice when many assignments cross the threshold at once', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const p = await newPool({ threshold: 10, notificationEmails: ['race@example.com'] });
    await upload(p.id, codes('R', 30));
    const answers = await Promise.all(Array.from({ length: 25 }, () => assign(p.id)));
    expect(answers.every((r) => r.statusCode === 201)).toBe(true);
    expect(await notices('race@example.com')).toHaveLength(1);
  });

  it('a pool without a notification list still disarms silently, and mail of another account is not found', async () => {
    const p = await newPool({ threshold: 1 });
    await upload(p.id, codes('S', 2));
    await assign(p.id);
    const mine = await notices('ops@example.com');
    expect(mine.length).toBeGreaterThan(0);
    const other = await newTenant(app);
    const list = await app.http.inject({ method: 'GET', url: '/v1/outbox', headers: other.auth });
    expect(list.json().items).toEqual([]);
    const all = await app.http.inject({ method: 'GET', url: '/v1/outbox?limit=1', headers: t.auth });
    const id = all.json().items[0].id as string;
    expect((await app.http.inject({ method: 'GET', url: `/v1/outbox/${id}`, headers: t.auth })).statusCode).toBe(200);
    const foreign = await app.http.inject({ method: 'GET', url: `/v1/outbox/${id}`, headers: other.auth });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('not_found');
  });
});

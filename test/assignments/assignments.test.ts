import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

describeEachEngine('assignments', (ctx) => {
  const { app, t } = useTenant(ctx);

  let n = 0;
  const newPool = async (settings: object = {}) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `pool-${++n}`, type: 'unique', ...settings },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string };
  };
  const upload = async (poolId: string, fields: Record<string, string>, content: string) => {
    const body = multipart(fields, { content });
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const assign = (poolId: string, email: string, idempotencyKey = `${email}-${Math.random()}`) =>
    app.http.inject({ method: 'POST', url: `/v1/pools/${poolId}/assignments`, headers: t.auth, payload: { email, idempotencyKey } });
  const counts = async (poolId: string) => (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json();

  it('hands out the soonest-expiring eligible code first, never-expiring last, ties in upload order', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await newPool({ expirationCutoffDays: 7 });
    await upload(pool.id, { expiration: 'none' }, 'NEVER1\n');
    await upload(
      pool.id,
      { expiration: 'file' },
      'LATE,2026-09-01\nSOON-B,2026-04-01\nSOON-A,2026-04-01\nCUTOFF,2026-03-05\nGONE,2026-02-01\n',
    );
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await assign(pool.id, `c${i}@example.com`)).json().code);
    expect(got).toEqual(['SOON-B', 'SOON-A', 'LATE', 'NEVER1']);
    const exhausted = await assign(pool.id, 'late@example.com');
    expect(exhausted.statusCode).toBe(409);
    expect(exhausted.json().error.code).toBe('pool_exhausted');
    const pool2 = await counts(pool.id);
    expect(pool2.counts).toEqual({ total: 6, available: 0, assigned: 4, expired: 1, withinCutoff: 1, redeemed: 0 });
  });

  it('answers the same (pool, key) with the same assignment (200), never burning a second code', async () => {
    const pool = await newPool();
    await upload(pool.id, {}, 'K1\nK2\n');
    const first = await assign(pool.id, 'same@example.com', 'order-42');
    expect(first.statusCode).toBe(201);
    const again = await assign(pool.id, 'SAME@example.com', 'order-42');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect((await counts(pool.id)).counts).toMatchObject({ assigned: 1, available: 1 });
  });

  it('falls back to the default code and its expiration, and refuses when inactive', async () => {
    const pool = await newPool({ defaultCode: 'SORRY5', defaultCodeExpiresAt: '2026-12-31' });
    await upload(pool.id, {}, 'ONLY1\n');
    expect((await assign(pool.id, 'a@example.com')).json()).toMatchObject({ code: 'ONLY1', source: 'unique', expiresAt: null });
    expect((await assign(pool.id, 'b@example.com')).json()).toMatchObject({
      code: 'SORRY5',
      source: 'default',
      expiresAt: '2026-12-31T23:59:59.999Z',
    });
    await app.http.inject({ method: 'PATCH', url: `/v1/pools/${pool.id}`, headers: t.auth, payload: { active: false } });
    const inactive = await assign(pool.id, 'c@example.com');
    expect(inactive.statusCode).toBe(409);
    expect(inactive.json().error.code).toBe('pool_inactive');
  });

  it('hands out a static code by its window: fixed or days-after expiry, the default in gaps', async () => {
    const pool = await newPool({ type: 'static', defaultCode: 'GAP5' });
    const saved = await app.http.inject({
      method: 'PUT',
      url: `/v1/pools/${pool.id}/static-codes`,
      headers: t.auth,
      payload: {
        rows: [
          { code: 'JUNE10', expiresOn: '2026-07-15', beginDistribution: '2026-06-01', endDistribution: '2026-06-30' },
          { code: 'AUG15', daysAfterDistribution: 14, beginDistribution: '2026-08-01', endDistribution: '2026-08-31' },
        ],
      },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    app.clock.set('2026-06-10T08:00:00Z');
    expect((await assign(pool.id, 's1@example.com')).json()).toMatchObject({
      code: 'JUNE10',
      source: 'static',
      expiresAt: '2026-07-15T23:59:59.999Z',
    });
    app.clock.set('2026-07-10T08:00:00Z');
    expect((await assign(pool.id, 's2@example.com')).json()).toMatchObject({ code: 'GAP5', source: 'default' });
    app.clock.set('2026-08-02T08:00:00Z');
    expect((await assign(pool.id, 's3@example.com')).json()).toMatchObject({
      code: 'AUG15',
      source: 'static',
      expiresAt: '2026-08-16T08:00:00.000Z',
    });
    app.clock.set('2026-03-01T12:00:00Z');
  });

  it('lists assignments in pages and exports them as CSV', async () => {
    const pool = await newPool();
    await upload(pool.id, {}, 'L1\nL2\nL3\n');
    for (const who of ['x@example.com', 'y@example.com', 'z@example.com']) await assign(pool.id, who);
    const page1 = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments?limit=2`, headers: t.auth });
    expect(page1.json().items.map((a: { email: string }) => a.email)).toEqual(['x@example.com', 'y@example.com']);
    const page2 = await app.http.inject({
      method: 'GET',
      url: `/v1/pools/${pool.id}/assignments?limit=2&cursor=${page1.json().nextCursor}`,
      headers: t.auth,
    });
    expect(page2.json()).toMatchObject({ items: [{ email: 'z@example.com', code: 'L3', source: 'unique' }], nextCursor: null });
    const csv = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments/export`, headers: t.auth });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('id,code,expiresAt,source,contactId,email,idempotencyKey,createdAt,status');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['L1', 'L2', 'L3']);
  });

  it('finds assignments by code or email prefix and by status (assigned, redeemed, expired), in pages; the export takes the same filters', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await newPool();
    await upload(pool.id, { expiration: 'file' }, 'FIND-A,2026-03-10\nFIND-B,2026-12-31\nFIND-C,2026-12-31\nOTHER-D,2026-12-31\n');
    for (const who of ['ann@example.com', 'Bob@Example.com', 'bea@example.com', 'carl@example.org'])
      expect((await assign(pool.id, who)).statusCode).toBe(201);
    const redeem = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/redemptions`,
      headers: t.auth,
      payload: { code: 'FIND-C', orderId: 'o-1' },
    });
    expect(redeem.statusCode, redeem.body).toBe(201);
    app.clock.set('2026-03-20T12:00:00Z'); // FIND-A (ann) has expired since
    const list = async (query: string) => {
      const res = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments?${query}`, headers: t.auth });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { items: { code: string; email: string; status: string }[]; nextCursor: string | null };
    };
    expect((await list('')).items.map((a) => `${a.code}:${a.status}`)).toEqual([
      'FIND-A:expired',
      'FIND-B:assigned',
      'FIND-C:redeemed',
      'OTHER-D:assigned',
    ]);
    expect((await list('q=find-')).items.map((a) => a.code)).toEqual(['FIND-A', 'FIND-B', 'FIND-C']);
    expect((await list('q=b')).items.map((a) => a.email)).toEqual(['Bob@Example.com', 'bea@example.com']);
    expect((await list('q=BOB%40example.com')).items.map((a) => a.code)).toEqual(['FIND-B']);
    expect((await list('status=redeemed')).items.map((a) => a.code)).toEqual(['FIND-C']);
    expect((await list('status=expired')).items.map((a) => a.code)).toEqual(['FIND-A']);
    expect((await list('status=assigned&q=find')).items.map((a) => a.code)).toEqual(['FIND-B']);
    // Pages of a filtered list: the cursor carries on within the filter.
    const first = await list('q=find&limit=2');
    expect(first.items.map((a) => a.code)).toEqual(['FIND-A', 'FIND-B']);
    const second = await list(`q=find&limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ items: [{ code: 'FIND-C' }], nextCursor: null });
    const bad = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments?status=lost`, headers: t.auth });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBeTruthy();

    const csv = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments/export?status=assigned`, headers: t.auth });
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split('\n');
    expect(lines.slice(1).map((l) => `${l.split(',')[1]}:${l.split(',').at(-1)}`)).toEqual(['FIND-B:assigned', 'OTHER-D:assigned']);
  });

  it('forecasts the run-out date from the last 7 days of assignments', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await newPool();
    await upload(pool.id, {}, Array.from({ length: 20 }, (_, i) => `F${i}`).join('\n'));
    for (let i = 0; i < 7; i++) await assign(pool.id, `f${i}@example.com`);
    const p = await counts(pool.id);
    expect(p.counts.available).toBe(13);
    // 7 assignments in 7 days = 1 a day: 13 days left.
    expect(p.runsOutAt?.slice(0, 10)).toBe('2026-03-14');
  });

  it("refuses another account's pool (404) and validates the body (422)", async () => {
    const pool = await newPool();
    const other = await newTenant(app);
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/assignments`,
      headers: other.auth,
      payload: { email: 'o@example.com', idempotencyKey: 'k' },
    });
    expect(res.statusCode).toBe(404);
    const bad = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/assignments`,
      headers: t.auth,
      payload: { idempotencyKey: 'k' },
    });
    expect(bad.statusCode).toBe(422);
  });
});

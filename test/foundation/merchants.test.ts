import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp } from '../helpers/app.ts';

describeEachEngine('merchants', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
  });
  afterAll(() => app.http.close());

  it('one account cannot read, list or change another account\'s merchants', async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    const read = await app.http.inject({ method: 'GET', url: `/v1/merchants/${a.merchantId}`, headers: b.auth });
    expect(read.statusCode).toBe(404);
    expect(read.json().error.code).toBe('not_found');
    const list = await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: b.auth });
    expect(list.json().items.map((m: { id: string }) => m.id)).toEqual([b.merchantId]);
    const own = await app.http.inject({ method: 'GET', url: `/v1/merchants/${a.merchantId}`, headers: a.auth });
    expect(own.statusCode).toBe(200);
  });
});

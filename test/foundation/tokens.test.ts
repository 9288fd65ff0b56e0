import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { vi } from 'vitest';

/** GET/POST /v1/tokens, DELETE /v1/tokens/{id} (tokens carry a role). */
describeEachEngine('API tokens', (ctx) => {
  const { app, t } = useTenant(ctx);
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    app.http.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload && { payload }) });

  it('creates a token shown once, lists it without its secret, and revokes it', async () => {
    const created = await call('POST', '/v1/tokens', t.token, { name: 'reporting', role: 'analyst' });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ name: 'reporting', role: 'analyst', merchantIds: null });
    expect(body.token).toMatch(/^cf_/);
    expect((await call('GET', '/v1/merchants', body.token)).statusCode).toBe(200);

    const list = await call('GET', '/v1/tokens', t.token);
    expect(list.statusCode).toBe(200);
    const listed = list.json().items.find((x: { id: string }) => x.id === body.id);
    expect(listed).toMatchObject({ name: 'reporting', role: 'analyst', installationAdmin: false, merchantIds: null });
    expect(JSON.stringify(list.json())).not.toContain(body.token);

    expect((await call('DELETE', `/v1/tokens/${body.id}`, t.token)).statusCode).toBe(204);
    expect((await call('GET', '/v1/merchants', body.token)).statusCode).toBe(401);
    expect((await call('DELETE', `/v1/tokens/${body.id}`, t.token)).statusCode).toBe(404);
  });

  it('a limited token only mints tokens within its merchants; another account never sees ours', async () => {
    const limited = (await call('POST', '/v1/tokens', t.token, { name: 'shop', role: 'owner', merchantIds: [t.merchantId] })).json();
    expect(limited.merchantIds).toEqual([t.merchantId]);
    expect((await call('POST', '/v1/tokens', limited.token, { name: 'wider', role: 'owner' })).statusCode).toBe(403);
    const narrower = await call('POST', '/v1/tokens', limited.token, { name: 'same', role: 'marketer', merchantIds: [t.merchantId] });
    expect(narrower.statusCode).toBe(201);
    expect((await call('GET', '/v1/tokens', limited.token)).statusCode).toBe(403);
    expect((await call('POST', '/v1/tokens', t.token, { name: 'x', role: 'owner', merchantIds: ['no-such-merchant'] })).statusCode).toBe(
      404,
    );

    const other = await newTenant(app);
    expect((await call('GET', '/v1/tokens', other.token)).json().items.map((x: { id: string }) => x.id)).not.toContain(limited.id);
    expect((await call('DELETE', `/v1/tokens/${limited.id}`, other.token)).statusCode).toBe(404);
  });

  it('writes lastUsedAt at most once a minute per token', async () => {
    const created = (await call('POST', '/v1/tokens', t.token, { name: 'used', role: 'analyst' })).json();
    const lastUsed = async () =>
      (await call('GET', '/v1/tokens?limit=500', t.token)).json().items.find((x: { id: string }) => x.id === created.id).lastUsedAt as
        string | null;
    expect(await lastUsed()).toBeNull();
    const first = app.clock.now().toISOString();
    await call('GET', '/v1/merchants', created.token);
    await vi.waitFor(async () => expect(await lastUsed()).toBe(first));
    app.clock.advance(30_000);
    await call('GET', '/v1/merchants', created.token);
    app.clock.advance(29_000);
    await call('GET', '/v1/merchants', created.token);
    // The write is not awaited: give a (wrong) write time to land before reading.
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastUsed()).toBe(first);
    app.clock.advance(2_000);
    const later = app.clock.now().toISOString();
    await call('GET', '/v1/merchants', created.token);
    await vi.waitFor(async () => expect(await lastUsed()).toBe(later));
  });

  it('a token revoked by another process stops working there within the 5 s cache', async () => {
    const other = await testApp(ctx.database);
    try {
      other.clock.set(app.clock.now());
      const created = (await call('POST', '/v1/tokens', t.token, { name: 'short-lived', role: 'marketer' })).json();
      const elsewhere = () =>
        other.http.inject({ method: 'GET', url: '/v1/merchants', headers: { authorization: `Bearer ${created.token}` } });
      expect((await elsewhere()).statusCode).toBe(200); // now cached by the other process
      expect((await call('DELETE', `/v1/tokens/${created.id}`, t.token)).statusCode).toBe(204);
      expect((await call('GET', '/v1/merchants', created.token)).statusCode).toBe(401); // at once where it was revoked
      other.clock.advance(4_000);
      expect((await elsewhere()).statusCode).toBe(200); // the documented window
      other.clock.advance(1_001);
      expect((await elsewhere()).statusCode).toBe(401);
    } finally {
      await other.http.close();
    }
  });

  it('refuses bad input with the error format', async () => {
    for (const payload of [
      {},
      { name: '' },
      { name: 'x' },
      { name: 'x', role: 'superuser' },
      { name: 'x', role: 'owner', merchantIds: 'all' },
      { name: 'x', role: 'owner', installationAdmin: true },
    ]) {
      const res = await call('POST', '/v1/tokens', t.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error.code).toBeTypeOf('string');
    }
  });
});

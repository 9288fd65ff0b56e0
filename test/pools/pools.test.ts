import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';

describeEachEngine('pools', (ctx) => {
  const { app, t } = useTenant(ctx);

  const create = (body: object, tenant = t) =>
    app.http.inject({ method: 'POST', url: `/v1/merchants/${tenant.merchantId}/pools`, headers: tenant.auth, payload: body });

  it('creates a pool with every setting, and reads it back with zero counts', async () => {
    const res = await create({
      name: 'SCA10Off',
      type: 'unique',
      expirationCutoffDays: 7,
      active: true,
      defaultCode: 'SORRY10',
      defaultCodeExpiresAt: '2026-12-31',
      threshold: 100,
      notificationEmails: ' ops@example.com; Ops@example.com , buyer@example.com ',
    });
    expect(res.statusCode).toBe(201);
    const pool = res.json();
    expect(pool).toMatchObject({
      name: 'SCA10Off',
      type: 'unique',
      merchantId: t.merchantId,
      expirationCutoffDays: 7,
      defaultCode: 'SORRY10',
      defaultCodeExpiresAt: '2026-12-31T23:59:59.999Z',
      threshold: 100,
      notificationEmails: ['ops@example.com', 'buyer@example.com'],
      counts: { total: 0, available: 0, assigned: 0, expired: 0, withinCutoff: 0, redeemed: 0 },
      runsOutAt: null,
    });
    const read = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}`, headers: t.auth });
    expect(read.json()).toEqual(pool);
  });

  it('refuses invalid settings, naming each field', async () => {
    const res = await create({ name: '', type: 'weird', expirationCutoffDays: -1, threshold: 1.5, defaultCode: 'x'.repeat(51) });
    expect(res.statusCode).toBe(422);
    const fields = res.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'type', 'expirationCutoffDays', 'threshold', 'defaultCode']));
    const emails = await create({ name: 'E', type: 'unique', notificationEmails: 'ok@example.com, not-an-address' });
    expect(emails.statusCode).toBe(422);
    expect(emails.json().error.details).toEqual([
      { field: 'notificationEmails', message: '"not-an-address" is not a valid email address' },
    ]);
    const staticCutoff = await create({ name: 'S', type: 'static', expirationCutoffDays: 3 });
    expect(staticCutoff.json().error.details[0].field).toBe('expirationCutoffDays');
    const badDate = await create({ name: 'D', type: 'unique', defaultCode: 'X', defaultCodeExpiresAt: '2026-02-30' });
    expect(badDate.json().error.details[0].field).toBe('defaultCodeExpiresAt');
  });

  it('keeps names unique per merchant, ignoring case (409), but not across merchants', async () => {
    expect((await create({ name: 'Welcome', type: 'unique' })).statusCode).toBe(201);
    const again = await create({ name: 'WELCOME', type: 'static' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'name_taken', details: [{ field: 'name' }] });
    const other = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: t.auth,
      payload: { name: 'Second', domain: 'second.example.com' },
    });
    const second = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${other.json().id}/pools`,
      headers: t.auth,
      payload: { name: 'welcome', type: 'unique' },
    });
    expect(second.statusCode).toBe(201);
  });

  it('edits settings partially, re-checking the merged result and name clashes', async () => {
    const a = (await create({ name: 'EditMe', type: 'unique' })).json();
    await create({ name: 'Taken', type: 'unique' });
    const patch = (body: object) => app.http.inject({ method: 'PATCH', url: `/v1/pools/${a.id}`, headers: t.auth, payload: body });
    const ok = await patch({ active: false, threshold: 5, notificationEmails: ['a@example.com'] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'EditMe', active: false, threshold: 5, notificationEmails: ['a@example.com'] });
    expect((await patch({ name: 'taken' })).statusCode).toBe(409);
    expect((await patch({ type: 'static', expirationCutoffDays: 2 })).statusCode).toBe(422);
    expect((await patch({ type: 'static' })).json().type).toBe('static');
  });

  it("lists a merchant's pools with counts, paginated", async () => {
    const fresh = await newTenant(app);
    for (const name of ['P1', 'P2', 'P3']) expect((await create({ name, type: 'unique' }, fresh)).statusCode).toBe(201);
    const first = await app.http.inject({ method: 'GET', url: `/v1/merchants/${fresh.merchantId}/pools?limit=2`, headers: fresh.auth });
    expect(first.json().items.map((p: { name: string }) => p.name)).toEqual(['P1', 'P2']);
    expect(first.json().items[0].counts).toEqual({ total: 0, available: 0, assigned: 0, expired: 0, withinCutoff: 0, redeemed: 0 });
    const next = await app.http.inject({
      method: 'GET',
      url: `/v1/merchants/${fresh.merchantId}/pools?limit=2&cursor=${first.json().nextCursor}`,
      headers: fresh.auth,
    });
    expect(next.json()).toMatchObject({ items: [{ name: 'P3' }], nextCursor: null });
  });

  it("hides another account's pools and merchants (404)", async () => {
    const pool = (await create({ name: 'Mine', type: 'unique' })).json();
    const other = await newTenant(app);
    expect((await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}`, headers: other.auth })).statusCode).toBe(404);
    expect(
      (await app.http.inject({ method: 'PATCH', url: `/v1/pools/${pool.id}`, headers: other.auth, payload: { active: false } })).statusCode,
    ).toBe(404);
    expect((await app.http.inject({ method: 'GET', url: `/v1/merchants/${t.merchantId}/pools`, headers: other.auth })).statusCode).toBe(
      404,
    );
    expect((await create({ name: 'Intruder', type: 'unique' }, { ...other, merchantId: t.merchantId })).statusCode).toBe(404);
  });
});

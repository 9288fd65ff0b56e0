import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';

describeEachEngine('contacts', (ctx) => {
  const { app, t } = useTenant(ctx);
  beforeAll(async () => {
    const group = (
      await app.http.inject({ method: 'POST', url: '/v1/field-groups', headers: t.auth, payload: { name: 'Shopper' } })
    ).json();
    for (const [name, type] of [
      ['Code', 'text'],
      ['Expires', 'date'],
      ['Points', 'number'],
      ['VIP', 'boolean'],
    ]) {
      await app.http.inject({ method: 'POST', url: `/v1/field-groups/${group.id}/fields`, headers: t.auth, payload: { name, type } });
    }
  });

  const put = (payload: object, auth = t.auth) => app.http.inject({ method: 'PUT', url: '/v1/contacts', headers: auth, payload });
  const get = (url: string, auth = t.auth) => app.http.inject({ method: 'GET', url, headers: auth });

  it('upserts by email, case-insensitively, merging typed values', async () => {
    const first = await put({ email: 'Ann@Example.com', fields: { Shopper: { Code: 'SAVE10', Expires: '03/15/2026', Points: 12.5 } } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      id: expect.any(String),
      email: 'Ann@Example.com',
      status: 'subscribed',
      fields: { Shopper: { Code: 'SAVE10', Expires: '2026-03-15', Points: 12.5 } },
    });
    const second = await put({
      email: 'ann@example.COM',
      status: 'unsubscribed',
      fields: { Shopper: { VIP: true, Points: null, Expires: '2026-03-15T10:00:00+02:00' } },
    });
    expect(second.json()).toMatchObject({
      id: first.json().id,
      status: 'unsubscribed',
      fields: { Shopper: { Code: 'SAVE10', Expires: '2026-03-15T08:00:00.000Z', VIP: true } },
    });
    expect(second.json().fields.Shopper).not.toHaveProperty('Points');
    // No status given: it stays as it is.
    expect((await put({ email: 'ANN@example.com' })).json().status).toBe('unsubscribed');
  });

  it('reads by id and by email (any case), with its runs', async () => {
    const id = (await put({ email: 'bob@example.com', fields: { Shopper: { Code: 'B1' } } })).json().id;
    const byId = await get(`/v1/contacts/${id}`);
    expect(byId.json()).toMatchObject({ id, email: 'bob@example.com', fields: { Shopper: { Code: 'B1' } }, runs: [] });
    const byEmail = await get('/v1/contacts?email=BOB%40example.com');
    expect(byEmail.json()).toMatchObject({ id, runs: [] });
    expect((await get('/v1/contacts?email=nobody%40example.com')).statusCode).toBe(404);
    const list = await get('/v1/contacts?limit=1');
    expect(list.json()).toMatchObject({ items: [expect.objectContaining({ id: expect.any(String) })], nextCursor: expect.any(String) });
  });

  it('refuses values that do not fit their field, naming group, field and value (422)', async () => {
    const cases: [object, { group: string; field: string; value: unknown }][] = [
      [{ Shopper: { Points: 'many' } }, { group: 'Shopper', field: 'Points', value: 'many' }],
      [{ Shopper: { VIP: 'yes' } }, { group: 'Shopper', field: 'VIP', value: 'yes' }],
      [{ Shopper: { Expires: '2026-02-30' } }, { group: 'Shopper', field: 'Expires', value: '2026-02-30' }],
      [{ Shopper: { Expires: '2026-03-01T10:00:00' } }, { group: 'Shopper', field: 'Expires', value: '2026-03-01T10:00:00' }],
      [{ Shopper: { Code: { nested: 1 } } }, { group: 'Shopper', field: 'Code', value: { nested: 1 } }],
      [{ Shopper: { Nope: 1 } }, { group: 'Shopper', field: 'Nope', value: 1 }],
      [{ Nobody: { Code: 'x' } }, { group: 'Nobody', field: '', value: { Code: 'x' } }],
    ];
    for (const [fields, detail] of cases) {
      const res = await put({ email: 'carl@example.com', fields });
      expect(res.statusCode, JSON.stringify(fields)).toBe(422);
      expect(res.json().error.details[0]).toMatchObject({ ...detail, message: expect.any(String) });
    }
    expect((await get('/v1/contacts?email=carl%40example.com')).statusCode).toBe(404);
    for (const body of [{ email: 'not-an-email' }, { email: 'a@b.c', status: 'gone' }, {}]) expect((await put(body)).statusCode).toBe(422);
  });

  it("keeps accounts apart: another account's contact is not found", async () => {
    const id = (await put({ email: 'dora@example.com' })).json().id;
    const other = await newTenant(app);
    expect((await get(`/v1/contacts/${id}`, other.auth)).statusCode).toBe(404);
    expect((await get('/v1/contacts?email=dora%40example.com', other.auth)).statusCode).toBe(404);
    // The same email in another account is another contact.
    expect((await put({ email: 'dora@example.com' }, other.auth)).json().id).not.toBe(id);
  });
});

import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';

describeEachEngine('messages', (ctx) => {
  const { app, t } = useTenant(ctx);
  beforeAll(async () => {
    await sql`update accounts set time_zone = 'America/New_York' where id = ${t.accountId}`.execute(ctx.database.db);
    const group = (
      await app.http.inject({ method: 'POST', url: '/v1/field-groups', headers: t.auth, payload: { name: 'ShopperInfo' } })
    ).json();
    for (const [name, type] of [
      ['SCA10Off', 'text'],
      ['SCA10Off Expiration', 'date'],
      ['Points', 'number'],
      ['VIP', 'boolean'],
    ]) {
      await app.http.inject({ method: 'POST', url: `/v1/field-groups/${group.id}/fields`, headers: t.auth, payload: { name, type } });
    }
    await app.http.inject({
      method: 'PUT',
      url: '/v1/contacts',
      headers: t.auth,
      payload: {
        email: 'ann@example.com',
        fields: { ShopperInfo: { SCA10Off: '<b>SAVE10</b>', 'SCA10Off Expiration': '2026-03-20T03:59:59.999Z', Points: 7, VIP: true } },
      },
    });
  });

  const message = (overrides: object = {}) => ({
    name: 'Your 10% off',
    fromName: 'Shop',
    fromEmail: 'shop@example.com',
    subject: 'A code for {{ contact.email }}',
    html: '<p>{{ ShopperInfo.SCA10Off }} until {{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}</p><p>{{ ShopperInfo.Points }} points{% if ShopperInfo.VIP %}, VIP{% endif %}</p>',
    text: 'Code {{ ShopperInfo.SCA10Off }}',
    ...overrides,
  });
  const create = (payload: object, auth = t.auth) => app.http.inject({ method: 'POST', url: '/v1/messages', headers: auth, payload });

  it('creates, reads, lists and replaces a message', async () => {
    const created = await create(message());
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect(created.json()).toMatchObject({ ...message(), id });
    expect((await app.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: t.auth })).json().name).toBe('Your 10% off');
    const put = await app.http.inject({
      method: 'PUT',
      url: `/v1/messages/${id}`,
      headers: t.auth,
      payload: message({ name: 'Renamed', text: null }),
    });
    expect(put.json()).toMatchObject({ id, name: 'Renamed', text: null });
    const list = await app.http.inject({ method: 'GET', url: '/v1/messages', headers: t.auth });
    expect(list.json().items.map((m: { id: string }) => m.id)).toContain(id);
  });

  it('refuses templates naming unknown groups or fields, or with syntax errors (422 with positions)', async () => {
    const res = await create(message({ subject: 'Hi {{ Nobody.name }}', html: '<p>\n{{ ShopperInfo.Missing }}</p>', text: '{% if %}' }));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('template_invalid');
    expect(res.json().error.details).toEqual([
      { field: 'subject', line: 1, column: 7, message: 'unknown field group "Nobody"' },
      { field: 'html', line: 2, column: 4, message: 'unknown field "Missing" in group "ShopperInfo"' },
      { field: 'text', line: 1, column: expect.any(Number), message: expect.any(String) },
    ]);
    const id = (await create(message())).json().id;
    const put = await app.http.inject({
      method: 'PUT',
      url: `/v1/messages/${id}`,
      headers: t.auth,
      payload: message({ html: '{% include "x" %}' }),
    });
    expect(put.statusCode).toBe(422);
    expect((await create(message({ fromEmail: 'nope' }))).statusCode).toBe(422);
    expect((await create(message({ html: '' }))).statusCode).toBe(422);
  });

  it('previews for a contact: escaped HTML, dates in the account zone, nothing created', async () => {
    const id = (await create(message())).json().id;
    const contact = (await app.http.inject({ method: 'GET', url: '/v1/contacts?email=ann%40example.com', headers: t.auth })).json();
    for (const ref of [{ contactId: contact.id }, { email: 'ANN@example.com' }]) {
      const res = await app.http.inject({ method: 'POST', url: `/v1/messages/${id}/preview`, headers: t.auth, payload: ref });
      expect(res.statusCode, res.body).toBe(200);
      // 2026-03-20T03:59:59Z is still the 19th in New York.
      expect(res.json()).toEqual({
        subject: 'A code for ann@example.com',
        html: '<p>&lt;b&gt;SAVE10&lt;/b&gt; until 03/19/2026</p><p>7 points, VIP</p>',
        text: 'Code <b>SAVE10</b>',
      });
    }
    const unknown = await app.http.inject({
      method: 'POST',
      url: `/v1/messages/${id}/preview`,
      headers: t.auth,
      payload: { email: 'new@example.com' },
    });
    expect(unknown.statusCode).toBe(404);
    expect((await app.http.inject({ method: 'GET', url: '/v1/contacts?email=new%40example.com', headers: t.auth })).statusCode).toBe(404);
    expect((await app.http.inject({ method: 'POST', url: `/v1/messages/${id}/preview`, headers: t.auth, payload: {} })).statusCode).toBe(
      422,
    );
  });

  it('stops a runaway template at preview with a clear error (422)', async () => {
    const id = (
      await create(message({ html: '{% for i in (1..1000000) %}{{ ShopperInfo.SCA10Off }}{{ ShopperInfo.SCA10Off }}{% endfor %}' }))
    ).json().id;
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/messages/${id}/preview`,
      headers: t.auth,
      payload: { email: 'ann@example.com' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'template_error',
      message: expect.stringMatching(/larger than|longer than/),
      details: [{ field: 'html', line: 1 }],
    });
  });

  it('renders a batch for many contacts (the conductor entry point)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.http.inject({
        method: 'PUT',
        url: '/v1/contacts',
        headers: t.auth,
        payload: { email: `b${i}@example.com`, fields: { ShopperInfo: { SCA10Off: `C${i}` } } },
      });
      ids.push(res.json().id);
    }
    const outcomes = await app.services.messages.renderBatch(
      t.accountId,
      { subject: 'S {{ ShopperInfo.SCA10Off }}', html: 'H', text: null },
      [...ids, 'missing'],
    );
    expect(outcomes.map((o) => (o.ok ? o.rendered.subject : 'error')).sort()).toEqual(['S C0', 'S C1', 'S C2', 'S C3', 'S C4']);
  });

  it("hides another account's messages (404)", async () => {
    const id = (await create(message())).json().id;
    const other = await newTenant(app);
    expect((await app.http.inject({ method: 'GET', url: `/v1/messages/${id}`, headers: other.auth })).statusCode).toBe(404);
    expect(
      (await app.http.inject({ method: 'PUT', url: `/v1/messages/${id}`, headers: other.auth, payload: message({ html: 'x' }) }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await app.http.inject({
          method: 'POST',
          url: `/v1/messages/${id}/preview`,
          headers: other.auth,
          payload: { email: 'ann@example.com' },
        })
      ).statusCode,
    ).toBe(404);
  });
});

import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';

describeEachEngine('field groups and fields', (ctx) => {
  const { app, t } = useTenant(ctx);

  const post = (url: string, payload: object, auth = t.auth) => app.http.inject({ method: 'POST', url, headers: auth, payload });

  it('creates a group and typed fields, each with its snippet', async () => {
    const group = await post('/v1/field-groups', { name: 'ShopperInfo' });
    expect(group.statusCode).toBe(201);
    expect(group.json()).toMatchObject({ id: expect.any(String), name: 'ShopperInfo', fields: [] });
    const groupId = group.json().id;
    const code = await post(`/v1/field-groups/${groupId}/fields`, { name: 'SCA10Off', type: 'text' });
    expect(code.statusCode).toBe(201);
    expect(code.json()).toEqual({ id: expect.any(String), groupId, name: 'SCA10Off', type: 'text', snippet: '{{ ShopperInfo.SCA10Off }}' });
    const expiration = await post(`/v1/field-groups/${groupId}/fields`, { name: 'SCA10Off Expiration', type: 'date' });
    expect(expiration.json().snippet).toBe('{{ ShopperInfo["SCA10Off Expiration"] | date: "%m/%d/%Y" }}');
    for (const type of ['number', 'boolean'])
      expect((await post(`/v1/field-groups/${groupId}/fields`, { name: `f_${type}`, type })).statusCode).toBe(201);

    const one = await app.http.inject({ method: 'GET', url: `/v1/field-groups/${groupId}`, headers: t.auth });
    expect(one.json().fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual([
      'SCA10Off:text',
      'SCA10Off Expiration:date',
      'f_number:number',
      'f_boolean:boolean',
    ]);
    const list = await app.http.inject({ method: 'GET', url: '/v1/field-groups', headers: t.auth });
    expect(list.json()).toMatchObject({ items: [{ id: groupId, name: 'ShopperInfo' }], nextCursor: null });
  });

  it('refuses a taken name (409): groups in the account, fields in their group', async () => {
    const group = (await post('/v1/field-groups', { name: 'Taken' })).json();
    const again = await post('/v1/field-groups', { name: 'Taken' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('name_taken');
    expect((await post(`/v1/field-groups/${group.id}/fields`, { name: 'x', type: 'text' })).statusCode).toBe(201);
    const field = await post(`/v1/field-groups/${group.id}/fields`, { name: 'x', type: 'number' });
    expect(field.statusCode).toBe(409);
    // The same field name in another group is fine.
    const other = (await post('/v1/field-groups', { name: 'Other' })).json();
    expect((await post(`/v1/field-groups/${other.id}/fields`, { name: 'x', type: 'text' })).statusCode).toBe(201);
  });

  it('validates names and types (422)', async () => {
    for (const name of ['', 'a.b', 'contact', ' padded', 'x'.repeat(101), 'tab\there']) {
      const res = await post('/v1/field-groups', { name });
      expect(res.statusCode, name).toBe(422);
      expect(res.json().error.details[0].field).toBe('name');
    }
    const group = (await post('/v1/field-groups', { name: 'Valid' })).json();
    expect((await post(`/v1/field-groups/${group.id}/fields`, { name: 'x', type: 'money' })).statusCode).toBe(422);
    expect((await post(`/v1/field-groups/${group.id}/fields`, { name: '', type: 'text' })).statusCode).toBe(422);
    // Any other name is fine: the snippet brackets it.
    const odd = await post(`/v1/field-groups/${group.id}/fields`, { name: 'Expires "on".day', type: 'date' });
    expect(odd.json().snippet).toBe('{{ Valid["Expires \\"on\\".day"] | date: "%m/%d/%Y" }}');
  });

  it("hides another account's groups (404)", async () => {
    const group = (await post('/v1/field-groups', { name: 'Mine' })).json();
    const other = await newTenant(app);
    expect((await app.http.inject({ method: 'GET', url: `/v1/field-groups/${group.id}`, headers: other.auth })).statusCode).toBe(404);
    expect((await post(`/v1/field-groups/${group.id}/fields`, { name: 'x', type: 'text' }, other.auth)).statusCode).toBe(404);
    expect((await app.http.inject({ method: 'GET', url: '/v1/field-groups', headers: other.auth })).json().items).toEqual([]);
  });
});

import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

describeEachEngine('contacts import', (ctx) => {
  const { app, t } = useTenant(ctx);
  beforeAll(async () => {
    const group = (
      await app.http.inject({ method: 'POST', url: '/v1/field-groups', headers: t.auth, payload: { name: 'Shopper' } })
    ).json();
    for (const [name, type] of [
      ['Code', 'text'],
      ['Expires on', 'date'],
      ['Points', 'number'],
      ['VIP', 'boolean'],
    ]) {
      await app.http.inject({ method: 'POST', url: `/v1/field-groups/${group.id}/fields`, headers: t.auth, payload: { name, type } });
    }
  });

  const importCsv = (content: string, fields: Record<string, string> = {}, tenant = t) => {
    const body = multipart(fields, { name: 'contacts.csv', content });
    return app.http.inject({
      method: 'POST',
      url: '/v1/contacts/import',
      headers: { ...tenant.auth, ...body.headers },
      payload: body.payload,
    });
  };
  const contact = async (email: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/contacts?email=${encodeURIComponent(email)}`, headers: t.auth })).json();

  it('imports new contacts with typed values (quoted cells, CRLF, blank lines)', async () => {
    const csv =
      'email,Shopper.Code,Shopper.Expires on,Shopper.Points,Shopper.VIP\r\nann@example.com,A1,2026-05-01,10,yes\r\n\r\n"bea@example.com","B,2","05/02/2026",-2.5,false\r\n';
    const res = await importCsv(csv);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({
      status: 'imported',
      lines: 4,
      imported: 2,
      created: 2,
      updated: 0,
      rejected: 0,
      errors: [],
      errorCount: 0,
    });
    expect((await contact('ann@example.com')).fields).toEqual({
      Shopper: { Code: 'A1', 'Expires on': '2026-05-01', Points: 10, VIP: true },
    });
    expect((await contact('BEA@example.com')).fields).toEqual({
      Shopper: { Code: 'B,2', 'Expires on': '2026-05-02', Points: -2.5, VIP: false },
    });
  });

  it('updates existing contacts (merge; an empty cell leaves a value; status only when given), and merges repeated emails', async () => {
    await importCsv('email,Shopper.Code,Shopper.Points\ncarl@example.com,C1,1\n');
    const res = await importCsv(
      'email,status,Shopper.Code,Shopper.Points\nCARL@example.com,,C2,\ndan@example.com,unsubscribed,D1,4\ndan@example.com,,,5\n',
    );
    expect(res.json()).toMatchObject({ status: 'imported', lines: 4, imported: 3, created: 1, updated: 1 });
    expect(await contact('carl@example.com')).toMatchObject({
      email: 'carl@example.com',
      status: 'subscribed',
      fields: { Shopper: { Code: 'C2', Points: 1 } },
    });
    expect(await contact('dan@example.com')).toMatchObject({ status: 'unsubscribed', fields: { Shopper: { Code: 'D1', Points: 5 } } });
  });

  it('rejects the whole file on an invalid line (reject), or imports the rest (skip)', async () => {
    const csv = [
      'email,Shopper.Points,Shopper.VIP,Shopper.Expires on',
      'ok1@example.com,1,true,2026-01-01',
      'not-an-email,1,true,2026-01-01',
      'ok2@example.com,lots,true,2026-01-01',
      'ok3@example.com,1,maybe,2026-01-01',
      'ok4@example.com,1,true,2026-02-30',
      'ok5@example.com,1,true',
      'ok6@example.com,"1,true,',
      'ok7@example.com,2,no,2026-12-31',
    ].join('\n');
    const rejected = await importCsv(csv);
    expect(rejected.statusCode).toBe(422);
    const body = rejected.json();
    expect(body.error.code).toBe('import_rejected');
    expect(body.error.details.map((d: { line: number }) => d.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(body.error.details[1].reason).toMatch(/Shopper.Points \(number\): "lots" is not a number/);
    expect(body.import).toMatchObject({ status: 'rejected', lines: 9, imported: 0, rejected: 6 });
    expect((await app.http.inject({ method: 'GET', url: '/v1/contacts?email=ok1%40example.com', headers: t.auth })).statusCode).toBe(404);

    const skipped = await importCsv(csv, { onInvalid: 'skip' });
    expect(skipped.statusCode).toBe(201);
    expect(skipped.json()).toMatchObject({ status: 'imported', lines: 9, imported: 2, created: 2, rejected: 6, errorCount: 6 });
    expect((await contact('ok7@example.com')).fields.Shopper).toEqual({ Points: 2, VIP: false, 'Expires on': '2026-12-31' });
  });

  it('refuses a bad header, naming each bad column (422)', async () => {
    const cases: [string, RegExp][] = [
      ['Shopper.Code\nx\n', /no "email" column/],
      ['email,Shopper.Nope\n', /unknown field "Nope" in group "Shopper"/],
      ['email,Nobody.Code\n', /unknown field group "Nobody"/],
      ['email,phone\n', /neither email, status nor <group>.<field>/],
      ['email,Shopper.Code,Shopper.Code\n', /appears twice/],
      ['', /empty/],
    ];
    for (const [csv, message] of cases) {
      const res = await importCsv(csv);
      expect(res.statusCode, csv).toBe(422);
      expect(res.json().error.code).toBe('import_header_invalid');
      expect(res.json().error.message).toMatch(message);
    }
    expect((await importCsv('email\na@example.com\n', { onInvalid: 'maybe' })).statusCode).toBe(422);
  });

  it('imports many contacts over several chunks, new ones by COPY and known ones by upsert', async () => {
    const tenant = await newTenant(app);
    const group = (await app.http.inject({ method: 'POST', url: '/v1/field-groups', headers: tenant.auth, payload: { name: 'G' } })).json();
    await app.http.inject({
      method: 'POST',
      url: `/v1/field-groups/${group.id}/fields`,
      headers: tenant.auth,
      payload: { name: 'n', type: 'number' },
    });
    const rows = (from: number, to: number, n: number) =>
      Array.from({ length: to - from }, (_, i) => `u${from + i}@example.com,${n}`).join('\n');
    const first = await importCsv(`email,G.n\n${rows(0, 60_000, 1)}\n`, {}, tenant);
    expect(first.json()).toMatchObject({ imported: 60_000, created: 60_000, updated: 0 });
    // Half known, half new: the first chunk's COPY fails on a known email, the rest go by upsert.
    const second = await importCsv(`email,G.n\n${rows(30_000, 90_000, 2)}\n`, {}, tenant);
    expect(second.json()).toMatchObject({ imported: 60_000, created: 30_000, updated: 30_000 });
    const listed = await app.http.inject({ method: 'GET', url: '/v1/contacts?email=u45000%40example.com', headers: tenant.auth });
    expect(listed.json().fields).toEqual({ G: { n: 2 } });
  }, 120_000);
});

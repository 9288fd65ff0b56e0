import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { csvCell } from '../../src/platform/csv.ts';
import { emailProblem, isEmail } from '../../src/platform/email.ts';
import { SIGN_IN_WINDOW_MS } from '../../src/modules/accounts/sessions.ts';

describe('csvCell', () => {
  it('escapes cells a spreadsheet would run as formulas, and only those', () => {
    for (const cell of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\t=1', '\r=1', '=HYPERLINK("http://x")'])
      expect(csvCell(cell)).toBe(`'${cell}`);
    for (const cell of ['SAVE10', '', 'a=b', 'ann@example.com', ' =1', "'quoted"]) expect(csvCell(cell)).toBe(cell);
  });
});

const GOOD = ['ann@example.com', 'a.b+tag@sub.example.co.uk', 'ops@localhost', 'jörg@bücher.de', "o'neil@example.com"];
const BAD = [
  '',
  'ann',
  '@example.com',
  'ann@',
  'a b@example.com',
  'a@b@c',
  '<a@b.c>',
  'a,b@example.com',
  'a;b@example.com',
  '.a@example.com',
  'a..b@example.com',
  'a.@example.com',
  'a@-x.com',
  'a@x..com',
  'a@x.com.',
  'a\u0000@x.com',
  `${'a'.repeat(65)}@example.com`,
  `a@${'b'.repeat(320)}.com`,
  'a"b@example.com',
  'a@[127.0.0.1]',
];

describe('the email rule', () => {
  it('accepts deliverable addresses and refuses the rest, with a reason', () => {
    for (const email of GOOD) expect(isEmail(email), email).toBe(true);
    for (const email of BAD) {
      expect(isEmail(email), email).toBe(false);
      expect(emailProblem(email), email).not.toBeNull();
    }
  });
});

describeEachEngine('smaller holes', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let proxied: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    proxied = await testApp(ctx.database, { config: { TRUST_PROXY: true } });
    t = await newTenant(app);
  });
  afterAll(async () => {
    await app.http.close();
    await proxied.http.close();
  });

  it('escapes formula cells in the assignments export', async () => {
    const pool = (
      await app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${t.merchantId}/pools`,
        headers: t.auth,
        payload: { name: 'Formulas', type: 'unique' },
      })
    ).json();
    const body = multipart({}, { content: '=SUM(A1:A9)\n' });
    expect(
      (
        await app.http.inject({
          method: 'POST',
          url: `/v1/pools/${pool.id}/uploads`,
          headers: { ...t.auth, ...body.headers },
          payload: body.payload,
        })
      ).statusCode,
    ).toBe(201);
    const assigned = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/assignments`,
      headers: t.auth,
      payload: { email: 'formula@example.com', idempotencyKey: '@import' },
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const csv = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/assignments/export`, headers: t.auth });
    expect(csv.statusCode).toBe(200);
    const rows = parse(csv.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ code: "'=SUM(A1:A9)", idempotencyKey: "'@import", email: 'formula@example.com' });
  });

  it('applies the one email rule on events, contacts, imports, messages, notification lists and assignments', async () => {
    const json = { ...t.auth, 'content-type': 'application/json' };
    const pool = (
      await app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${t.merchantId}/pools`,
        headers: json,
        payload: { name: 'Emails', type: 'unique', defaultCode: 'D' },
      })
    ).json();
    const calls = (email: string, i: number) =>
      [
        { method: 'POST', url: '/v1/events', payload: { type: 'x', email } },
        { method: 'PUT', url: '/v1/contacts', payload: { email } },
        {
          method: 'POST',
          url: '/v1/messages',
          payload: { name: `m${i}${email}`, fromName: 'F', fromEmail: email, subject: 'S', html: 'x' },
        },
        { method: 'PATCH', url: `/v1/pools/${pool.id}`, payload: { notificationEmails: email } },
        { method: 'POST', url: `/v1/pools/${pool.id}/assignments`, payload: { email, idempotencyKey: `e${i}` } },
      ] as const;
    for (const [i, email] of ['jörg@bücher.de', 'ops@localhost'].entries()) {
      for (const call of calls(email, i)) {
        const res = await app.http.inject({ ...call, headers: json });
        expect(res.statusCode, `${call.method} ${call.url} ${email}: ${res.body}`).toBeLessThan(300);
      }
    }
    for (const [i, email] of ['a..b@example.com', 'a,b@example.com', 'a@-x.com'].entries()) {
      for (const call of calls(email, i + 10)) {
        const res = await app.http.inject({ ...call, headers: json });
        expect(res.statusCode, `${call.method} ${call.url} ${email}: ${res.body}`).toBe(422);
      }
      const body = multipart({ onInvalid: 'skip' }, { name: 'c.csv', content: `email\n${email.includes(',') ? `"${email}"` : email}\n` });
      const imported = await app.http.inject({
        method: 'POST',
        url: '/v1/contacts/import',
        headers: { ...t.auth, ...body.headers },
        payload: body.payload,
      });
      expect(imported.json(), email).toMatchObject({ imported: 0, rejected: 1 });
    }
  });

  const signIn = (on: typeof app, headers: Record<string, string> = {}, token = t.token, remoteAddress = '192.0.2.1') =>
    on.http.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { 'content-type': 'application/json', ...headers },
      payload: { token },
      remoteAddress,
    });
  const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']);

  it('marks the session cookie Secure over HTTPS: X-Forwarded-Proto counts only with TRUST_PROXY', async () => {
    const behindProxy = await signIn(proxied, { 'x-forwarded-proto': 'https' }, t.token, '192.0.2.10');
    expect(behindProxy.statusCode).toBe(201);
    expect(cookieOf(behindProxy)).toMatch(/; Secure$/);
    const plainProxy = await signIn(proxied, {}, t.token, '192.0.2.10');
    expect(cookieOf(plainProxy)).not.toMatch(/Secure/);
    const forged = await signIn(app, { 'x-forwarded-proto': 'https' }, t.token, '192.0.2.10');
    expect(forged.statusCode).toBe(201);
    expect(cookieOf(forged)).not.toMatch(/Secure/);
  });

  it('refuses sign-in (429) after 10 failures from one client within 15 minutes, for that client only', async () => {
    const client = '198.51.100.7';
    for (let i = 0; i < 10; i++) {
      const res = await signIn(app, {}, `cf_wrong${i}`, client);
      expect(res.statusCode, `try ${i + 1}`).toBe(401);
    }
    const blocked = await signIn(app, {}, t.token, client); // even the right token
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error).toMatchObject({ code: 'too_many_attempts', details: [] });
    expect(Number(blocked.headers['retry-after'])).toBe(SIGN_IN_WINDOW_MS / 1000);
    expect((await signIn(app, {}, t.token, '198.51.100.8')).statusCode).toBe(201);
    app.clock.advance(SIGN_IN_WINDOW_MS - 60_000);
    expect((await signIn(app, {}, t.token, client)).statusCode).toBe(429);
    app.clock.advance(60_000);
    expect((await signIn(app, {}, t.token, client)).statusCode).toBe(201);
  });

  it('tells clients apart by X-Forwarded-For behind a trusted proxy', async () => {
    for (let i = 0; i < 10; i++)
      expect((await signIn(proxied, { 'x-forwarded-for': '203.0.113.5' }, 'cf_bad', '10.0.0.1')).statusCode).toBe(401);
    expect((await signIn(proxied, { 'x-forwarded-for': '203.0.113.5' }, t.token, '10.0.0.1')).statusCode).toBe(429);
    expect((await signIn(proxied, { 'x-forwarded-for': '203.0.113.6' }, t.token, '10.0.0.1')).statusCode).toBe(201);
  });
});

import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';

/** Console sign-in over the API: cookie attributes, Origin checks, sign-out, expiry, tokens unchanged. */
describeEachEngine('console session', (ctx) => {
  const { app, t: tenant } = useTenant(ctx);
  const host = 'console.example.com';
  const origin = `http://${host}`;

  const signIn = async (token = tenant.token, headers: Record<string, string> = { host, origin }) =>
    app.http.inject({ method: 'POST', url: '/v1/session', headers, payload: { token } });
  const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;

  it('exchanges a token for an HttpOnly, SameSite=Strict cookie that does not contain the token', async () => {
    const res = await signIn();
    expect(res.statusCode).toBe(201);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^couponflow_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(setCookie).not.toContain(tenant.token);
    expect(res.body).not.toContain(tenant.token);
    expect(res.json()).toMatchObject({ accountId: tenant.accountId, via: 'session' });
  });

  it('refuses a wrong token (401) and a sign-in posted from another site (403)', async () => {
    expect((await signIn('cf_wrong')).statusCode).toBe(401);
    expect((await signIn(tenant.token, { host, origin: 'https://evil.example' })).statusCode).toBe(403);
  });

  it('reads with the cookie; a change needs the console Origin (403 without it or with another)', async () => {
    const cookie = cookieOf(await signIn());
    expect((await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: { host, cookie } })).statusCode).toBe(200);
    const change = (headers: Record<string, string>) =>
      app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: { host, cookie, ...headers },
        payload: { name: 'B', domain: 'b.example.com' },
      });
    const none = await change({});
    expect(none.statusCode).toBe(403);
    expect(none.json().error.code).toBe('origin_mismatch');
    expect((await change({ origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await change({ origin: 'null' })).statusCode).toBe(403);
    expect((await change({ origin })).statusCode).toBe(201);
  });

  it('sign-out deletes the session server-side: the same cookie no longer works', async () => {
    const cookie = cookieOf(await signIn());
    const out = await app.http.inject({ method: 'DELETE', url: '/v1/session', headers: { host, origin, cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await app.http.inject({ method: 'GET', url: '/v1/session', headers: { host, cookie } })).statusCode).toBe(401);
  });

  it('a session ends after 12 hours', async () => {
    const cookie = cookieOf(await signIn());
    app.clock.advance(12 * 3600 * 1000 + 1000);
    const res = await app.http.inject({ method: 'GET', url: '/v1/session', headers: { host, cookie } });
    expect(res.statusCode).toBe(401);
  });

  it('bearer tokens work as before, with no Origin needed; a bearer token wins over a cookie', async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: tenant.auth,
      payload: { name: 'C', domain: 'c.example.com' },
    });
    expect(res.statusCode).toBe(201);
    const who = await app.http.inject({
      method: 'GET',
      url: '/v1/session',
      headers: { ...tenant.auth, cookie: 'couponflow_session=garbage' },
    });
    expect(who.json()).toMatchObject({ via: 'token' });
  });

  it('serves the console page and refuses paths outside its assets', async () => {
    const page = await app.http.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    for (const url of ['/assets/..%2Fpackage.json', '/assets/missing.js', '/assets/x.exe']) {
      expect((await app.http.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });
});

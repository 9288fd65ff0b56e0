import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase, type TestDatabase } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';

/** The HTTP conventions: one error envelope, the status for each kind of failure. */
describe('HTTP conventions', () => {
  let test: TestDatabase;
  let app: Awaited<ReturnType<typeof testApp>>;
  let admin: { authorization: string };
  let t: TestTenant;
  beforeAll(async () => {
    test = await openMigratedDatabase('pglite');
    app = await testApp(test.database);
    const boot = await app.services.accounts.bootstrap({ timeZone: 'UTC' });
    if (!boot.created) throw new Error('bootstrap found accounts in a fresh database');
    admin = { authorization: `Bearer ${boot.token}` };
    t = await newTenant(app);
  });
  afterAll(async () => {
    await app?.http.close();
    await test?.close();
  });

  const envelope = (code: string) => ({ error: { code, message: expect.any(String), details: expect.any(Array) } });
  const json = { 'content-type': 'application/json' };

  it('malformed JSON → 400 malformed_request', async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: { ...t.auth, ...json },
      payload: '{"name": "Shop", ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(envelope('malformed_request'));
  });

  it('well-formed JSON that breaks the schema → 422 validation_failed, naming each field', async () => {
    const bad = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: t.auth,
      payload: { name: 'Shop', domain: 'not a domain!' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toEqual(envelope('validation_failed'));
    expect(bad.json().error.details).toEqual([{ field: 'domain', message: expect.any(String) }]);
    expect(bad.json().error.message).toMatch(/^domain: /);

    const missing = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: t.auth,
      payload: { domain: 'shop.example.com' },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.details.map((d: { field: string }) => d.field)).toEqual(['name']);

    const query = await app.http.inject({ method: 'GET', url: '/v1/merchants?limit=0', headers: t.auth });
    expect(query.statusCode).toBe(422);
    expect(query.json().error.details.map((d: { field: string }) => d.field)).toEqual(['querystring.limit']);
  });

  it('a body of another type → 415, one with no body → 400, both in the envelope', async () => {
    const text = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: { ...t.auth, 'content-type': 'application/xml' },
      payload: '<merchant/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual(envelope('unsupported_media_type'));
    const plain = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: { ...t.auth, 'content-type': 'text/plain' },
      payload: '{"name":"x"}',
    });
    expect(plain.statusCode).toBe(415);
    const empty = await app.http.inject({ method: 'POST', url: '/v1/merchants', headers: { ...t.auth, ...json }, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual(envelope('malformed_request'));
  });

  it('an unknown route → 404 not_found', async () => {
    const res = await app.http.inject({ method: 'GET', url: '/v1/no-such-thing?x=1', headers: t.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(envelope('not_found'));
    expect(res.json().error.message).toContain('/v1/no-such-thing');
    const method = await app.http.inject({ method: 'DELETE', url: '/v1/merchants', headers: t.auth });
    expect(method.statusCode).toBe(404);
    expect(method.json()).toEqual(envelope('not_found'));
  });

  it('a body over the limit → 413 payload_too_large, and nothing stored', async () => {
    const payload = JSON.stringify({ name: 'Big', domain: 'big.example.com', padding: 'x'.repeat(1024 * 1024) });
    const res = await app.http.inject({ method: 'POST', url: '/v1/merchants', headers: { ...t.auth, ...json }, payload });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual(envelope('payload_too_large'));
    const list = await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: t.auth });
    expect(list.json().items.map((m: { name: string }) => m.name)).not.toContain('Big');
  });

  it('/health answers 200 without a token', async () => {
    const res = await app.http.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/openapi.json lists the API, /docs renders it as HTML (both with a token)', async () => {
    const doc = await app.http.inject({ method: 'GET', url: '/openapi.json', headers: t.auth });
    expect(doc.statusCode).toBe(200);
    const paths = doc.json().paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/v1/merchants'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(paths['/v1/merchants/{merchantId}']).toBeDefined();
    expect(paths['/health']).toBeUndefined(); // hidden: not part of the API

    const docs = await app.http.inject({ method: 'GET', url: '/docs', headers: t.auth });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
    expect(docs.body).toMatch(/^<!doctype html>/i);
    expect(docs.body).toContain('<code>/v1/merchants</code>');
    // Markdown code spans of the API's texts render as code, not as literal backticks.
    expect(docs.body).not.toContain('`');
  });

  it('/docs sends a browser without a session to the console sign-in (and back); API clients get the 401', async () => {
    const page = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const browser = await app.http.inject({ method: 'GET', url: '/docs', headers: { accept: page } });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/?next=%2Fdocs');
    // A session that has ended (the cookie names no live session): the same.
    const endedSession = await app.http.inject({
      method: 'GET',
      url: '/docs',
      headers: { accept: page, cookie: 'couponflow_session=gone' },
    });
    expect(endedSession.statusCode).toBe(303);
    for (const accept of ['application/json', undefined]) {
      const client = await app.http.inject({ method: 'GET', url: '/docs', headers: accept ? { accept } : {} });
      expect(client.statusCode).toBe(401);
      expect(client.json()).toEqual(envelope('unauthorized'));
    }
    // Other routes stay JSON 401 for a browser too.
    expect((await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: { accept: page } })).statusCode).toBe(401);
  });

  it('/metrics is for the installation admin only, in the Prometheus text format', async () => {
    const refused = await app.http.inject({ method: 'GET', url: '/metrics', headers: t.auth });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(envelope('forbidden'));

    await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: t.auth });
    const res = await app.http.inject({ method: 'GET', url: '/metrics', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE couponflow_http_request_duration_seconds histogram');
    expect(res.body).toMatch(/couponflow_http_request_duration_seconds_count\{method="GET",route="\/v1\/merchants",status="200"\} [1-9]/);
    expect(res.body).toContain('couponflow_process_cpu_seconds_total');
  });
});

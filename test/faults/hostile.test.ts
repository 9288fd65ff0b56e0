import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';

/**
 * Garbage at every route of the route table (filled by the onRoute hook, so a route added
 * tomorrow is swept too): NUL, lone surrogates, deep JSON, huge numbers, out-of-range dates and
 * wrong types in bodies, params and query strings. Real ids go into the params where we have them,
 * so the garbage reaches the services and the database. Nothing may answer 5xx, and every
 * refusal is in the API's error format.
 */

/** Thousands of requests: generous on a loaded machine (PGlite runs them one at a time). */
const SWEEP_TIMEOUT_MS = 300_000;

const DUMMY_ID = '01900000-0000-7000-8000-000000000000';

/** Raw JSON texts for one property's value (texts, so that 1e400 and lone surrogates survive). */
const hostileValues: string[] = [
  '"a\\u0000b"',
  '"\\ud800"',
  '"x\\udc00y"',
  '1e400',
  '-1e400',
  '9007199254740993',
  '1e20',
  '-1',
  '0.5',
  '"9999-12-31"',
  '"0000-01-01"',
  '"10000-01-01"',
  '"9999-12-31T23:00:00-05:00"',
  '"0001-01-01T00:00:00+01:00"',
  '"-000001-01-01T00:00:00Z"',
  'true',
  'null',
  '[]',
  '{}',
  '[[[[[[[[[[]]]]]]]]]]',
  `"${'x'.repeat(20_000)}"`,
  '{"__proto__":{"polluted":1}}',
];

/** A few more from fast-check: arbitrary UTF-16 (lone surrogates included) and odd JSON values. */
const generated: string[] = fc
  .sample(
    fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.double(), fc.integer()),
    { numRuns: 12, seed: 42 },
  )
  .map((v) => JSON.stringify(v) ?? 'null');

const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const paramValues = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%F0%9F',
  'x'.repeat(300),
  '-1',
  '1e400',
  "'%3B%20drop%20table%20x%3B--",
  '..%2F..%2Fetc',
  '%20',
];
const queryValues = ['%00', '%ED%A0%80', '1e400', '-1', '9999999999999999999999', 'abc', '9999-12-31', '0000-01-01'];

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

describeEachEngine('hostile input on every route', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    const post = async (url: string, payload: object, method: 'POST' | 'PUT' = 'POST') => {
      const res = await app.http.inject({ method, url, headers: t.auth, payload });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`);
      return res.json();
    };
    ids.merchantId = t.merchantId;
    ids.poolId = (await post(`/v1/merchants/${t.merchantId}/pools`, { name: 'Hostile', type: 'unique', defaultCode: 'DEF' })).id;
    ids.groupId = (await post('/v1/field-groups', { name: 'Shopper' })).id;
    ids.contactId = (await post('/v1/contacts', { email: 'hostile@example.com' }, 'PUT')).id;
  });
  afterAll(() => app.http.close());

  /** Bodies that the route takes as they are; the sweep spoils one property at a time. */
  const validBodies = (): Record<string, Record<string, unknown>> => ({
    'POST /v1/merchants': { name: 'M', domain: 'm.example.com' },
    'POST /v1/merchants/:merchantId/pools': { name: `P${Math.random()}`, type: 'unique' },
    'PATCH /v1/pools/:poolId': { active: true },
    'POST /v1/pools/:poolId/generate': { count: 2, length: 8 },
    'PUT /v1/pools/:poolId/static-codes': { rows: [] },
    'POST /v1/pools/:poolId/static-codes/validate': { rows: [] },
    'POST /v1/pools/:poolId/assignments': { email: 'a@example.com', idempotencyKey: `k${Math.random()}` },
    'POST /v1/field-groups': { name: `G${Math.random()}` },
    'POST /v1/field-groups/:groupId/fields': { name: `F${Math.random()}`, type: 'text' },
    'PUT /v1/contacts': { email: 'c@example.com' },
    'POST /v1/events': { type: 'hostile', email: 'e@example.com' },
    'POST /v1/messages': { name: 'N', fromName: 'F', fromEmail: 'f@example.com', subject: 'S', html: '<p>x</p>' },
    'POST /v1/conversations': { name: 'C', trigger: { event: 'x' }, steps: [] },
    'POST /v1/session': { token: 'cf_nothing' },
  });

  const concrete = (url: string, override?: [string, string]) =>
    url
      .replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => (override && override[0] === name ? override[1] : (ids[name] ?? DUMMY_ID)))
      .replace(/\*$/, 'anything');

  const failures: string[] = [];
  const check = async (label: string, request: InjectOptions) => {
    const res = await app.http.inject(request);
    let body: unknown;
    try {
      body = res.json();
    } catch {
      body = undefined;
    }
    const envelope = body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
    if (res.statusCode >= 500) failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    else if (res.statusCode >= 400 && res.headers['content-type']?.toString().includes('json')) {
      const e = envelope?.error;
      if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !Array.isArray(e.details))
        failures.push(`${label}: ${res.statusCode} not in the error format: ${res.body.slice(0, 200)}`);
    }
  };

  const routes = () => app.http.routeTable.filter((r) => !r.url.includes('*') && r.url !== '/');
  const operation = (method: string, url: string): Operation | undefined => {
    const doc = app.http.swagger() as { paths: Record<string, Record<string, Operation>> };
    return doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
  };

  it(
    'no 5xx for hostile JSON bodies, property by property',
    async () => {
      failures.length = 0;
      let sent = 0;
      for (const route of routes()) {
        if (['GET', 'DELETE'].includes(route.method)) continue;
        const op = operation(route.method, route.url);
        const properties = Object.keys(op?.requestBody?.content?.['application/json']?.schema?.properties ?? {});
        const url = concrete(route.url);
        const headers = { ...t.auth, 'content-type': 'application/json' };
        const label = `${route.method} ${route.url}`;
        for (const whole of [deepJson(40), deepJson(100), deepJson(5000), '"\\u0000"', '1e400', '[]', '"x"', '{"a":"\\ud800"}']) {
          await check(`${label} body ${whole.slice(0, 30)}`, { method: route.method as 'POST', url, headers, payload: whole });
          sent++;
        }
        // Alone, and beside otherwise valid values (so that the garbage gets past the schema's
        // other checks and into the service and the database).
        const base = validBodies()[`${route.method} ${route.url}`];
        for (const property of properties) {
          for (const value of [...hostileValues, ...generated]) {
            await check(`${label} {${property}: ${value.slice(0, 40)}}`, {
              method: route.method as 'POST',
              url,
              headers,
              payload: `{"${property}":${value}}`,
            });
            sent++;
            if (base) {
              const payload = `${JSON.stringify(base).slice(0, -1)}${Object.keys(base).length ? ',' : ''}"${property}":${value}}`;
              await check(`${label} valid but {${property}: ${value.slice(0, 40)}}`, {
                method: route.method as 'POST',
                url,
                headers,
                payload,
              });
              sent++;
            }
          }
        }
      }
      expect(sent).toBeGreaterThan(500);
      expect(failures).toEqual([]);
    },
    SWEEP_TIMEOUT_MS,
  );

  it(
    'no 5xx for hostile params and query strings',
    async () => {
      failures.length = 0;
      for (const route of routes()) {
        const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
        const hasBody = !['GET', 'DELETE'].includes(route.method);
        const base = {
          method: route.method as 'GET',
          headers: { ...t.auth, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
          ...(hasBody ? { payload: '{}' } : {}),
        };
        for (const param of params) {
          for (const value of paramValues)
            await check(`${route.method} ${route.url} ${param}=${value.slice(0, 20)}`, {
              ...base,
              url: concrete(route.url, [param, value]),
            });
        }
        const query = (operation(route.method, route.url)?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        for (const name of [...query, 'limit', 'cursor']) {
          for (const value of queryValues)
            await check(`${route.method} ${route.url}?${name}=${value}`, { ...base, url: `${concrete(route.url)}?${name}=${value}` });
          await check(`${route.method} ${route.url}?${name} twice`, { ...base, url: `${concrete(route.url)}?${name}=1&${name}=2` });
        }
      }
      expect(failures).toEqual([]);
    },
    SWEEP_TIMEOUT_MS,
  );

  it('refuses NUL, lone surrogates and deep JSON with the right status and field', async () => {
    const nul = await app.http.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"name":"a\\u0000b","domain":"x.example.com"}',
    });
    expect(nul.statusCode).toBe(422);
    expect(nul.json().error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'name', message: expect.stringContaining('NUL') }],
    });
    const lone = await app.http.inject({
      method: 'PUT',
      url: '/v1/contacts',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"email":"x@example.com","fields":{"Shopper":{"a":"\\udc01"}}}',
    });
    expect(lone.statusCode).toBe(422);
    expect(lone.json().error.details).toEqual([{ field: 'fields.Shopper.a', message: expect.stringContaining('lone surrogate') }]);
    const deep = await app.http.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: `{"type":"x","email":"x@example.com","properties":${deepJson(70)}}`,
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error.code).toBe('json_too_deep');
    const shallow = await app.http.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: `{"type":"x","email":"x@example.com","properties":${deepJson(30)}}`,
    });
    expect(shallow.statusCode, shallow.body).toBe(202);
    const param = await app.http.inject({ method: 'GET', url: '/v1/pools/a%00b', headers: t.auth });
    expect(param.statusCode).toBe(400);
    expect(param.json().error.details).toEqual([{ field: 'params.poolId', message: expect.stringContaining('NUL') }]);
  });

  it('refuses out-of-range dates: 422 in JSON bodies, line errors in uploads', async () => {
    const json = { ...t.auth, 'content-type': 'application/json' };
    for (const occurredAt of ['0000-06-01T00:00:00Z', '9999-12-31T23:00:00-05:00']) {
      const res = await app.http.inject({
        method: 'POST',
        url: '/v1/events',
        headers: json,
        payload: { type: 'x', email: 'dates@example.com', occurredAt },
      });
      expect(res.statusCode, occurredAt).toBe(422);
      expect(res.json().error.details[0].field).toBe('occurredAt');
    }
    // A zone west of UTC: 9999-12-31 there ends in the year 10000 (UTC).
    const { token } = await app.services.accounts.createAccountFromCli({ name: 'west', timeZone: 'America/New_York' });
    const west = { authorization: `Bearer ${token}` };
    const merchant = (
      await app.http.inject({ method: 'POST', url: '/v1/merchants', headers: west, payload: { name: 'W', domain: 'w.example.com' } })
    ).json();
    const westPool = (
      await app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${merchant.id}/pools`,
        headers: west,
        payload: { name: 'W', type: 'unique' },
      })
    ).json();
    const zoned = await app.http.inject({
      method: 'PATCH',
      url: `/v1/pools/${westPool.id}`,
      headers: west,
      payload: { defaultCode: 'W', defaultCodeExpiresAt: '9999-12-31' },
    });
    expect(zoned.statusCode, zoned.body).toBe(422);
    for (const defaultCodeExpiresAt of ['0000-01-01', '10000-01-01', '0000-01-01T00:00:00Z']) {
      const res = await app.http.inject({
        method: 'PATCH',
        url: `/v1/pools/${ids.poolId}`,
        headers: json,
        payload: { defaultCodeExpiresAt },
      });
      expect(res.statusCode, `${defaultCodeExpiresAt}: ${res.body}`).toBe(422);
    }
    const rows = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: json,
      payload: { name: 'StaticDates', type: 'static' },
    });
    const validate = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${rows.json().id}/static-codes/validate`,
      headers: json,
      payload: {
        rows: [{ code: 'S', expiresOn: '0000-01-01', beginDistribution: '2026-01-01', endDistribution: '10000-01-01T00:00:00Z' }],
      },
    });
    expect(validate.statusCode, validate.body).toBeLessThan(500);
    expect(validate.json().valid).toBe(false);

    const body = multipart(
      { expiration: 'file', onInvalid: 'skip' },
      { content: 'D1,2027-01-01\nD2,0000-01-01\nD3,0001-01-01T00:00:00+01:00\nD4,9999-12-31T23:30:00-01:00\nD5,9999-12-30\n' },
    );
    const up = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${ids.poolId}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(up.statusCode, up.body).toBe(201);
    expect(up.json()).toMatchObject({ imported: 2, rejected: 3 });
    expect(up.json().errors).toEqual(
      [2, 3, 4].map((line) => ({ line, reason: expect.stringContaining('outside the dates that can be stored') })),
    );
    const fixed = multipart({ expiration: 'fixed', expiresOn: '9999-12-31' }, { content: 'F1\n' });
    const inZone = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${westPool.id}/uploads`,
      headers: { ...west, ...fixed.headers },
      payload: fixed.payload,
    });
    expect(inZone.statusCode, inZone.body).toBe(422);
    const lines = multipart({ expiration: 'file', onInvalid: 'skip' }, { content: 'W1,9999-12-31\nW2,9999-12-30\n' });
    const westUp = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${westPool.id}/uploads`,
      headers: { ...west, ...lines.headers },
      payload: lines.payload,
    });
    expect(westUp.json()).toMatchObject({
      imported: 1,
      rejected: 1,
      errors: [{ line: 1, reason: expect.stringContaining('outside the dates') }],
    });
    const westGenerate = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${westPool.id}/generate`,
      headers: west,
      payload: { count: 1, length: 8, expiresOn: '9999-12-31' },
    });
    expect(westGenerate.statusCode).toBe(422);
  });
});

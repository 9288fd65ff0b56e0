import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { testApp } from '../helpers/app.ts';

/**
 * Every route needs a token, except an explicit few. The table is filled by an onRoute hook, so a
 * route added tomorrow is checked without anyone remembering to list it here.
 */
const PUBLIC_ROUTES = [
  'GET /', // the console's page: no data in it
  'GET /assets/*', // the console's compiled scripts and styles
  'GET /health',
  'POST /v1/session', // console sign-in: the caller has no session yet, the token (or email and password) comes in the body
  'POST /v1/password-links/inspect', // the set-password page: the one-time link is the proof (test/users/users.test.ts)
  'POST /v1/password-links/use', // setting the password through that link, same proof
  'POST /v1/password-resets', // asking for a reset link by mail: answers the same for any address
  'GET /u/:token', // unsubscribe page: the signed link is the proof (test/mail/unsubscribe.test.ts)
  'POST /u/:token', // one-click unsubscribe (RFC 8058), same proof
  // Shopify's orders webhook: the HMAC over the raw body with the merchant's secret is the proof (test/integrations/shopify.test.ts)
  'POST /v1/merchants/:merchantId/integrations/shopify/webhooks',
];
/** The public routes that answer 200 to anyone, as they are. */
const PUBLIC_PAGES = ['GET /', 'GET /health'];

const unauthorizedBody = { error: { code: 'unauthorized', message: expect.any(String), details: [] } };

/** A concrete URL for a route pattern: every `:param` (and a wildcard) gets a dummy value. */
const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+/g, '01900000-0000-7000-8000-000000000000').replace(/\*$/, 'anything');

describeEachEngine('route table', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
  });
  afterAll(() => app.http.close());

  const routes = () => app.http.routeTable.map((r) => ({ ...r, key: `${r.method} ${r.url}` }));

  it('lists every route, including each one in the OpenAPI document', () => {
    const keys = new Set(routes().map((r) => r.key));
    for (const known of [
      'GET /health',
      'GET /openapi.json',
      'GET /docs',
      'GET /metrics',
      'POST /v1/accounts',
      'GET /v1/merchants',
      'POST /v1/merchants',
      'GET /v1/merchants/:merchantId',
    ]) {
      expect(keys).toContain(known);
    }
    const doc = app.http.swagger() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        expect(keys, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }
  });

  it('has exactly the allowed public routes', () => {
    const publicRoutes = routes()
      .filter((r) => r.public)
      .map((r) => r.key)
      .sort();
    expect(publicRoutes).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('answers 401 with the error envelope on every other route, without a token or with a wrong one', async () => {
    const guarded = routes().filter((r) => !r.public);
    expect(guarded.length).toBeGreaterThan(10);
    const headerCases: [string, Record<string, string>][] = [
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer cf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
      ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ];
    const failures: string[] = [];
    for (const route of guarded) {
      const url = concrete(route.url);
      for (const [label, headers] of headerCases) {
        const hasBody = !['GET', 'DELETE', 'OPTIONS'].includes(route.method);
        const res = await app.http.inject({
          method: route.method as 'GET',
          url,
          headers: hasBody ? { ...headers, 'content-type': 'application/json' } : headers,
          ...(hasBody ? { payload: '{}' } : {}),
        });
        let body: unknown;
        try {
          body = res.json();
        } catch {
          body = res.body;
        }
        try {
          expect(res.statusCode).toBe(401);
          expect(body).toEqual(unauthorizedBody);
        } catch {
          failures.push(`${route.method} ${url} with ${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
      }
      if (route.method === 'GET') {
        // Fastify answers HEAD for every GET; it must be guarded the same way.
        const head = await app.http.inject({ method: 'HEAD', url });
        if (head.statusCode !== 401) failures.push(`HEAD ${url} without a token: ${head.statusCode}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves the public routes without a token', async () => {
    for (const key of PUBLIC_PAGES) {
      const [method, url] = key.split(' ') as ['GET', string];
      const res = await app.http.inject({ method, url });
      expect(res.statusCode, key).toBe(200);
    }
  });
});

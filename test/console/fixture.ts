import { afterAll, beforeAll, expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { TestTenant } from '../helpers/app.ts';
import { late } from '../helpers/fixture.ts';
import { api } from '../conductor/setup.ts';
import { buildConsole, launchBrowser, startServer, type ConsoleServer } from './browser.ts';

export type Browser = Awaited<ReturnType<typeof launchBrowser>>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ConsoleOptions {
  /** The account's name. */
  account: string;
  /** Its merchant (default "Shop", shop.example.com): `t.merchantId`. */
  merchant?: { name: string; domain: string };
  /** What the suite makes through the API once the tenant exists, before the browser starts. */
  seed?: (c: ConsoleFixture) => Promise<void>;
  /** The page's default timeout for actions and waits (default 15 s). */
  pageTimeout?: number;
  viewport?: { width: number; height: number };
  /** Listeners to add before the first navigation. */
  onPage?: (page: Page) => void;
  /** Signs in with the tenant's token at `at` (a hash route such as `#/pools/…`, '' or a full URL), then waits for `ready`. */
  signIn?: { at: string | (() => string); ready?: (page: Page) => Locator };
  /** The whole setup's timeout (default 180 s: a console build and a browser on a loaded machine). */
  setupTimeoutMs?: number;
}

export interface ConsoleFixture {
  /** The listening server (its app, URL and database) serving the console built from the sources. */
  server: ConsoleServer;
  browser: Browser;
  /** The browser's one page. */
  page: Page;
  /** The account (an admin token) and its merchant. */
  t: TestTenant;
  /** An API call as the tenant; checks the status (`status`, or any 2xx) and answers the body. */
  call(method: Method, url: string, payload?: unknown, status?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A pool of the tenant's merchant (or `merchantId`'s). */
  pool(name: string, type?: 'unique' | 'static', merchantId?: string): Promise<{ id: string; name: string }>;
  /** Uploads `codes` (lines; a string goes as it is) to a pool: 201. */
  upload(poolId: string, codes: string[] | string, fields?: Record<string, string>): Promise<unknown>;
  /** Assigns a code of the pool to `email`: 201, the assignment. */
  assign(poolId: string, email: string, idempotencyKey: string): Promise<{ code: string; contactId: string }>;
  /** A message from "Shop" <shop@example.com>, HTML only: 201, the message. */
  message(name: string, subject: string, html: string): Promise<{ id: string }>;
  /** Signs in with the tenant's token at `at` on `page` (default the suite's page) and waits for `ready`. */
  signIn(at: string, ready?: (page: Page) => Locator, page?: Page): Promise<void>;
}

/**
 * The one setup of a console suite: the console built from the current sources, a real listening
 * server (PGlite, real clock), an account with a merchant, what `seed` makes, Chromium with one
 * page, signed in where `signIn` says; closed again in `afterAll`. Call it at the top of the
 * suite; like `useTenant`, the objects it answers stand for the real ones from the first hook on.
 */
export function useConsole(options: ConsoleOptions): ConsoleFixture {
  const made: { built?: Awaited<ReturnType<typeof buildConsole>>; server?: ConsoleServer; browser?: Browser; page?: Page; t?: TestTenant } =
    {};
  const what = 'useConsole: the server, page and tenant';
  const server = late(() => made.server, { bind: true, what });
  const t = late(() => made.t, { what });

  const call: ConsoleFixture['call'] = async (method, url, payload, status) => {
    const res = await server.app.http.inject({
      method,
      url,
      headers: t.auth,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    if (status !== undefined) expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
    else expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.body ? res.json() : undefined;
  };
  const fixture: ConsoleFixture = {
    server,
    browser: late(() => made.browser, { bind: true, what }),
    page: late(() => made.page, { bind: true, what }),
    t,
    call,
    pool: (name, type = 'unique', merchantId = t.merchantId) => call('POST', `/v1/merchants/${merchantId}/pools`, { name, type }, 201),
    upload: (poolId, codes, fields = {}) =>
      api(server.app as Parameters<typeof api>[0], t).upload(poolId, typeof codes === 'string' ? codes : `${codes.join('\n')}\n`, fields),
    assign: (poolId, email, idempotencyKey) => call('POST', `/v1/pools/${poolId}/assignments`, { email, idempotencyKey }, 201),
    message: (name, subject, html) =>
      call('POST', '/v1/messages', { name, fromName: 'Shop', fromEmail: 'shop@example.com', subject, html, text: null }, 201),
    async signIn(at, ready, page = made.page!) {
      await page.goto(/^https?:/.test(at) ? at : `${server.url}/${at}`);
      await page.getByRole('button', { name: 'Use an API token instead' }).click();
      await page.getByLabel('API token').fill(t.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      if (ready) await ready(page).waitFor();
    },
  };

  beforeAll(async () => {
    made.built = await buildConsole();
    made.server = await startServer(made.built.dir);
    const { account, token } = await made.server.app.services.accounts.createAccountFromCli({ name: options.account });
    const auth = { authorization: `Bearer ${token}` };
    made.t = { accountId: account.id, token, auth, merchantId: '' };
    made.t.merchantId = (await call('POST', '/v1/merchants', options.merchant ?? { name: 'Shop', domain: 'shop.example.com' }, 201)).id;
    await options.seed?.(fixture);
    made.browser = await launchBrowser();
    made.page = made.browser.context.pages()[0] ?? (await made.browser.context.newPage());
    made.page.setDefaultTimeout(options.pageTimeout ?? 15_000);
    if (options.viewport) await made.page.setViewportSize(options.viewport);
    options.onPage?.(made.page);
    if (options.signIn) {
      const { at, ready } = options.signIn;
      await fixture.signIn(typeof at === 'string' ? at : at(), ready);
    }
  }, options.setupTimeoutMs ?? 180_000);

  afterAll(async () => {
    await made.browser?.close();
    await made.server?.close();
    await made.built?.remove();
  });

  return fixture;
}

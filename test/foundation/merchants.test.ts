import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';

type Merchant = { id: string; name: string; domain: string };
type Page = { items: Merchant[]; nextCursor: string | null };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorOf = (code: string) => ({ error: { code, message: expect.any(String), details: expect.any(Array) } });

describeEachEngine('merchants, tokens and accounts', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  /** The installation admin's token: the first start's, on this suite's fresh database. */
  let adminToken: string;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    const boot = await app.services.accounts.bootstrap({ timeZone: 'UTC' });
    if (!boot.created) throw new Error('bootstrap found accounts in a fresh database');
    adminToken = boot.token;
  });
  afterAll(() => app.http.close());

  const get = (url: string, token: string | { authorization: string }) =>
    app.http.inject({ method: 'GET', url, headers: typeof token === 'string' ? bearer(token) : token });
  const post = (url: string, token: string | { authorization: string }, payload: object) =>
    app.http.inject({ method: 'POST', url, headers: typeof token === 'string' ? bearer(token) : token, payload });
  const addMerchant = async (t: TestTenant, name: string): Promise<Merchant> => {
    const res = await post('/v1/merchants', t.auth, { name, domain: `${name.toLowerCase()}.example.com` });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const newPool = { name: 'SPRING10', type: 'unique' };

  it("one account cannot read, list or change another account's merchants", async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    const read = await get(`/v1/merchants/${a.merchantId}`, b.auth);
    expect(read.statusCode).toBe(404);
    expect(read.json()).toEqual(errorOf('not_found'));
    const list = await get('/v1/merchants', b.auth);
    expect(list.json().items.map((m: Merchant) => m.id)).toEqual([b.merchantId]);
    const pools = await get(`/v1/merchants/${a.merchantId}/pools`, b.auth);
    expect(pools.statusCode).toBe(404);
    const change = await post(`/v1/merchants/${a.merchantId}/pools`, b.auth, newPool);
    expect(change.statusCode).toBe(404);
    expect(change.json()).toEqual(errorOf('not_found'));
    // Not even the installation admin sees into another account.
    expect((await get(`/v1/merchants/${a.merchantId}`, adminToken)).statusCode).toBe(404);

    // Every route about one merchant, present and future: 404 for another account's merchant.
    const perMerchant = app.http.routeTable.filter((r) => r.method === 'GET' && r.url.startsWith('/v1/merchants/:merchantId'));
    expect(perMerchant.length).toBeGreaterThanOrEqual(2);
    for (const route of perMerchant) {
      const res = await get(route.url.replace(':merchantId', a.merchantId), b.auth);
      expect(res.statusCode, route.url).toBe(404);
    }

    const own = await get(`/v1/merchants/${a.merchantId}`, a.auth);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: a.merchantId, domain: 'shop.example.com' });
    expect((await post(`/v1/merchants/${a.merchantId}/pools`, a.auth, newPool)).statusCode).toBe(201);
  });

  it('a token limited to one merchant sees only it, and cannot touch the others or create merchants', async () => {
    const t = await newTenant(app);
    const other = await addMerchant(t, 'Outlet');
    const limited = await app.services.accounts.createToken({ accountId: t.accountId, merchantIds: [t.merchantId] });

    const list = await get('/v1/merchants', limited);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((m: Merchant) => m.id)).toEqual([t.merchantId]);
    expect((await get(`/v1/merchants/${t.merchantId}`, limited)).statusCode).toBe(200);
    expect((await post(`/v1/merchants/${t.merchantId}/pools`, limited, newPool)).statusCode).toBe(201);

    const forbidden = [
      await get(`/v1/merchants/${other.id}`, limited),
      await get(`/v1/merchants/${other.id}/pools`, limited),
      await post(`/v1/merchants/${other.id}/pools`, limited, newPool),
      await post('/v1/merchants', limited, { name: 'Sneaky', domain: 'sneaky.example.com' }),
      await post('/v1/accounts', limited, { name: 'Sneaky Inc' }),
    ];
    for (const res of forbidden) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toEqual(errorOf('forbidden'));
    }
    // The account's unlimited token still sees both.
    expect(
      (await get('/v1/merchants', t.auth))
        .json()
        .items.map((m: Merchant) => m.id)
        .sort(),
    ).toEqual([t.merchantId, other.id].sort());
  });

  it("refuses to limit a token to another account's merchant", async () => {
    const a = await newTenant(app);
    const b = await newTenant(app);
    await expect(app.services.accounts.createToken({ accountId: a.accountId, merchantIds: [b.merchantId] })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(app.services.accounts.createToken({ accountId: 'no-such-account' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('only the installation admin creates accounts, and the new token works in its own account only', async () => {
    const t = await newTenant(app);
    const refused = await post('/v1/accounts', t.auth, { name: 'Rival Inc' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(errorOf('forbidden'));

    const created = await post('/v1/accounts', adminToken, { name: 'Acme Retail' });
    expect(created.statusCode, created.body).toBe(201);
    const account = created.json();
    expect(account).toMatchObject({ id: expect.any(String), name: 'Acme Retail', token: expect.stringMatching(/^cf_/) });

    const empty = await get('/v1/merchants', account.token);
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ items: [], nextCursor: null });
    const merchant = await post('/v1/merchants', account.token, { name: 'Acme Online', domain: 'acme.example.com' });
    expect(merchant.statusCode).toBe(201);
    expect((await get('/v1/merchants', account.token)).json().items.map((m: Merchant) => m.id)).toEqual([merchant.json().id]);
    // The new account's admin is not the installation admin.
    expect((await post('/v1/accounts', account.token, { name: 'Acme Spinoff' })).statusCode).toBe(403);
    expect((await get('/metrics', account.token)).statusCode).toBe(403);
    // Nor does the installation admin see into it.
    expect((await get(`/v1/merchants/${merchant.json().id}`, adminToken)).statusCode).toBe(404);

    const invalid = await post('/v1/accounts', adminToken, { name: '' });
    expect(invalid.statusCode).toBe(422);
  });

  it('pages through the merchants with limit and cursor, each exactly once', async () => {
    const t = await newTenant(app);
    const created = [t.merchantId];
    for (let i = 0; i < 6; i++) created.push((await addMerchant(t, `Shop${i}`)).id);

    const walk = async (token: string | { authorization: string }, limit: number) => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/merchants?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await get(url, token);
        expect(res.statusCode, res.body).toBe(200);
        const page: Page = res.json();
        seen.push(...page.items.map((m) => m.id));
        sizes.push(page.items.length);
        cursor = page.nextCursor;
        expect(sizes.length).toBeLessThanOrEqual(created.length + 1); // a cursor that loops fails here
      } while (cursor);
      return { seen, sizes };
    };

    const byThree = await walk(t.auth, 3);
    expect(byThree.sizes).toEqual([3, 3, 1]);
    expect(byThree.seen).toHaveLength(created.length);
    expect(new Set(byThree.seen)).toEqual(new Set(created));
    // Exactly as many as the limit: one page, and no cursor to an empty one.
    expect((await walk(t.auth, created.length)).sizes).toEqual([created.length]);
    expect((await walk(t.auth, 1)).seen).toEqual(byThree.seen);

    // A limited token pages through its own merchants only.
    const some = [created[1]!, created[4]!, created[6]!];
    const limited = await app.services.accounts.createToken({ accountId: t.accountId, merchantIds: some });
    const limitedWalk = await walk(limited, 2);
    expect(limitedWalk.sizes).toEqual([2, 1]);
    expect(new Set(limitedWalk.seen)).toEqual(new Set(some));
  });

  it('refuses a tampered cursor (400) and a bad limit (422); a cursor leaks nothing across accounts', async () => {
    const t = await newTenant(app);
    await addMerchant(t, 'Second');
    const first: Page = (await get('/v1/merchants?limit=1', t.auth)).json();
    const cursor = first.nextCursor!;
    expect(cursor).toEqual(expect.any(String));

    const [id = '', sum = ''] = cursor.split('.');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const tamperings = [
      `${cursor}!`,
      cursor.slice(0, -1),
      `${id.slice(0, -1)}.${sum}`,
      `${flip(id, 10)}.${sum}`,
      `${id}.${flip(sum, 0)}`,
      id,
      `${cursor}=`,
      'not a cursor',
      '',
    ];
    for (const tampered of tamperings) {
      const res = await get(`/v1/merchants?limit=1&cursor=${encodeURIComponent(tampered)}`, t.auth);
      expect(res.statusCode, `cursor ${JSON.stringify(tampered)}`).toBe(400);
      expect(res.json()).toEqual(errorOf('invalid_cursor'));
    }
    for (const limit of ['0', '501', 'ten', '1.5']) {
      const res = await get(`/v1/merchants?limit=${limit}`, t.auth);
      expect(res.statusCode, `limit ${limit}`).toBe(422);
      expect(res.json().error.code).toBe('validation_failed');
    }

    // Another account replaying this cursor gets its own merchants after that point, never ours.
    const other = await newTenant(app);
    const replay = await get(`/v1/merchants?cursor=${encodeURIComponent(cursor)}`, other.auth);
    expect(replay.statusCode).toBe(200);
    for (const m of (replay.json() as Page).items) expect(m.id).toBe(other.merchantId);
  });
});

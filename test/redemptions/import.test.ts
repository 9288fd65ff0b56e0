import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { redemptionApi } from './setup.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;

describeEachEngine('redemptions import (a report source: CSV, lenient)', (ctx) => {
  let app: TestApp;
  let t: TestTenant;
  let api: ReturnType<typeof redemptionApi>;
  let uniquePool: string;
  let staticPool: string;
  let dupA: string;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    api = redemptionApi(app, t);
    uniquePool = await api.pool({ type: 'unique' });
    await api.upload(uniquePool, ['U-1,2026-03-05', 'U-2,2026-03-06', 'U-3,2026-03-07', 'U-NEVER,2026-12-31'], 'file');
    await api.assign(uniquePool, 'ann@example.com'); // U-1
    await api.assign(uniquePool, 'bob@example.com'); // U-2
    await api.assign(uniquePool, 'eve@example.com'); // U-3
    expect((await api.redeem({ code: 'U-2', orderId: 'o-api' })).statusCode).toBe(201);
    staticPool = await api.pool({ type: 'static' });
    const rows = await api.call('PUT', `/v1/pools/${staticPool}/static-codes`, {
      rows: [{ code: 'SHARED', beginDistribution: '2026-01-01', endDistribution: '2026-12-31', daysAfterDistribution: 30 }],
    });
    expect(rows.statusCode, rows.body).toBe(200);
    // DUP is in two pools: one copy handed to cat, the other to dan. TWIN is in two pools, handed to nobody.
    dupA = await api.pool({ type: 'unique' });
    const dupB = await api.pool({ type: 'unique' });
    await api.upload(dupA, ['DUP', 'TWIN']);
    await api.upload(dupB, ['DUP', 'TWIN']);
    expect((await api.assign(dupA, 'cat@example.com')).code).toBe('DUP');
    expect((await api.assign(dupB, 'dan@example.com')).code).toBe('DUP');
    app.clock.set('2026-04-01T00:00:00Z'); // every unique code has expired: the report sources record them anyway
  });
  afterAll(() => app.http.close());

  const importFile = (content: string, onInvalid?: 'reject' | 'skip', merchantId = t.merchantId, target = app) => {
    const body = multipart(onInvalid ? { onInvalid } : {}, { content, name: 'orders.csv' });
    return target.http.inject({
      method: 'POST',
      url: `/v1/merchants/${merchantId}/redemptions/import`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
  };
  const live = async () =>
    (
      await sql<{
        code: string;
        order_id: string;
        source: string;
        pool_key: string;
        amount: string | null;
        currency: string | null;
        email: string | null;
      }>`
        select code, order_id, source, pool_key::text, amount::text, currency, email from redemptions
        where account_id = ${t.accountId} and rolled_back_at is null order by code, order_id`.execute(ctx.database.db)
    ).rows;

  const mixed = [
    'code,orderId,redeemedAt,amount,currency,email',
    'U-1,o-1,2026-02-20,25.50,eur,ann@example.com', // 2 recorded (expired by now)
    'U-1,o-1,,,,', // 3 the same order again: a duplicate
    'U-1,o-9,,,,', // 4 another order: already_redeemed
    'U-2,o-api,,,,', // 5 the checkout's order: a duplicate
    'U-2,o-other,,,,', // 6 already_redeemed by o-api
    'U-NEVER,o-2,,,,', // 7 never handed out: recorded (the order happened)
    'NOPE,o-3,,,,', // 8 code_not_found
    'SHARED,o-4,,,,x@example.com', // 9 recorded
    'SHARED,o-5,,,,', // 10 recorded: a shared code counts each order
    'DUP,o-6,,,,CAT@example.com', // 11 the copy handed to cat
    'DUP,o-7,,,,', // 12 ambiguous_code: no email
    'TWIN,o-8,,,,cat@example.com', // 13 ambiguous_code: neither copy is cat's
    'U-3,o-10,yesterday,,,', // 14 invalid date
    '',
    'U-3,o-11,,12.345,,', // 16 invalid amount
    'U-3,o-12', // 17 too few columns
  ].join('\n');

  it('skip: records what it can, reports the rest line by line, in one pass', async () => {
    const res = await importFile(mixed, 'skip');
    expect(res.statusCode, res.body).toBe(201);
    const report = res.json();
    expect(report).toMatchObject({ status: 'imported', lines: 15, recorded: 5, duplicates: 2, rejected: 8, errorCount: 8 });
    const reasons = Object.fromEntries(report.errors.map((e: { line: number; reason: string }) => [e.line, e.reason]));
    expect(Object.keys(reasons).map(Number)).toEqual([4, 6, 8, 12, 13, 14, 16, 17]);
    expect(reasons[4]).toContain('already_redeemed');
    expect(reasons[6]).toContain('already_redeemed');
    expect(reasons[8]).toContain('code_not_found');
    expect(reasons[12]).toContain('ambiguous_code');
    expect(reasons[13]).toContain('ambiguous_code');
    expect(reasons[14]).toContain('redeemedAt');
    expect(reasons[16]).toContain('amount');
    expect(reasons[17]).toContain('expected 6 columns');

    const rows = (await live()).filter((r) => r.source === 'file');
    expect(rows.map((r) => `${r.code}/${r.order_id}`)).toEqual(['DUP/o-6', 'SHARED/o-4', 'SHARED/o-5', 'U-1/o-1', 'U-NEVER/o-2']);
    expect(rows.find((r) => r.code === 'U-1')).toMatchObject({ amount: '25.50', currency: 'EUR', email: 'ann@example.com' });
    const dup = await sql<{ id: string }>`select id from pools where key = ${rows.find((r) => r.code === 'DUP')!.pool_key}::bigint`.execute(
      ctx.database.db,
    );
    expect(dup.rows[0]!.id).toBe(dupA); // cat's copy, not dan's

    const listed = await api.call('GET', `/v1/merchants/${t.merchantId}/redemptions?source=file&code=U-1`);
    expect(listed.json().items).toEqual([
      expect.objectContaining({ code: 'U-1', orderId: 'o-1', poolId: uniquePool, redeemedAt: '2026-02-20T00:00:00.000Z', source: 'file' }),
    ]);

    // The same file again: everything recorded is a duplicate now; nothing is recorded twice.
    const again = (await importFile(mixed, 'skip')).json();
    expect(again).toMatchObject({ recorded: 0, duplicates: 7, rejected: 8 });
    expect((await live()).filter((r) => r.source === 'file')).toHaveLength(5);
  });

  it('reject: one line that cannot be recorded and nothing is; a clean file is recorded whole', async () => {
    const before = await live();
    const res = await importFile(['code,orderId', 'U-3,o-r1', 'NOPE,o-r2', 'U-3,o-r3,extra'].join('\n'));
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe('import_rejected');
    expect(body.error.details.map((d: { line: number }) => d.line)).toEqual([3, 4]);
    expect(body.import).toMatchObject({ status: 'rejected', lines: 3, recorded: 0, rejected: 2, errorCount: 2 });
    expect(await live()).toEqual(before);

    const ok = await importFile(['code,orderId,amount,currency', 'U-3,o-r1,10,usd', '"SHARED",o-r2,,'].join('\r\n'), 'reject');
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ status: 'imported', lines: 2, recorded: 2, duplicates: 0, rejected: 0, errors: [] });
    expect((await live()).length).toBe(before.length + 2);
  });

  it(
    "refuses a bad header, another merchant's codes, and a file over the upload limit (413), recording nothing",
    { timeout: 120_000 },
    async () => {
      const before = await live();
      const header = await importFile('code,order\nU-3,o-h');
      expect(header.statusCode).toBe(422);
      expect(header.json().error.code).toBe('import_header_invalid');
      expect((await importFile('')).statusCode).toBe(422);

      // Codes of this merchant's pools only: the other merchant's U-3 is not found there.
      const other = await app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: t.auth,
        payload: { name: 'other shop', domain: 'other.example.com' },
      });
      const res = await importFile('code,orderId\nU-3,o-x', 'skip', other.json().id);
      expect(res.json()).toMatchObject({ recorded: 0, rejected: 1 });
      expect(res.json().errors[0].reason).toContain('code_not_found');
      expect((await importFile('code,orderId\nU-3,o-x', 'skip', '01900000-0000-7000-8000-000000000000')).statusCode).toBe(404);

      const small = await testApp(ctx.database, { config: { UPLOAD_LIMIT_BYTES: 1024 } });
      try {
        const big = ['code,orderId', ...Array.from({ length: 200 }, (_, i) => `SHARED,big-${i}`)].join('\n');
        const refused = await importFile(big, 'skip', t.merchantId, small);
        expect(refused.statusCode, refused.body).toBe(413);
        expect(refused.json().error.code).toBe('payload_too_large');
      } finally {
        await small.http.close();
      }
      expect(await live()).toEqual(before);
    },
  );
});

import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

/** The upload answer accounts for every line: read = imported + duplicates + invalid + blank; expired codes are told. */
describeEachEngine('upload report: blank lines and codes already expired', (ctx) => {
  const { app, t } = useTenant(ctx);

  const newPool = async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `pool-${Math.random().toString(36).slice(2)}`, type: 'unique' },
    });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string };
  };
  const upload = (poolId: string, fields: Record<string, string>, content: string) => {
    const body = multipart(fields, { content });
    return app.http.inject({
      method: 'POST',
      url: `/v1/pools/${poolId}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
  };
  const sums = (u: { lines: number; imported: number; duplicates: number; rejected: number; blank: number }) =>
    u.imported + u.duplicates + u.rejected + u.blank;

  it('counts blank lines so that the counts add up to the lines read', async () => {
    const pool = await newPool();
    const res = await upload(pool.id, { onInvalid: 'skip' }, `A1\n\nA2\n   \nA1\n${'X'.repeat(60)}\nA3\n`);
    expect(res.statusCode, res.body).toBe(201);
    const u = res.json();
    expect(u).toMatchObject({ lines: 7, imported: 3, duplicates: 1, rejected: 1, blank: 2, alreadyExpired: 0 });
    expect(sums(u)).toBe(u.lines);
    // A rejected file tells its blank lines too.
    const rejected = await upload(pool.id, {}, `B1\n\n${'X'.repeat(60)}\n`);
    expect(rejected.statusCode).toBe(422);
    expect(rejected.json().upload).toMatchObject({ lines: 3, imported: 0, rejected: 1, blank: 1 });
  });

  it('counts imported codes already past their date, on the fast path and through the staging table', async () => {
    const pool = await newPool();
    const fast = await upload(pool.id, { expiration: 'file' }, 'OLD1,2020-01-31\nOLD2,2020-02-01\nNEW1,2099-12-31\n');
    expect(fast.statusCode, fast.body).toBe(201);
    expect(fast.json()).toMatchObject({ imported: 3, alreadyExpired: 2 });
    // OLD1 is in the pool already: the chunk goes through the staging table.
    const staged = await upload(pool.id, { expiration: 'file' }, 'OLD1,2020-01-31\nOLD3,2021-05-05\nNEW2,2099-12-31\n');
    expect(staged.statusCode, staged.body).toBe(201);
    expect(staged.json()).toMatchObject({ imported: 2, duplicates: 1, alreadyExpired: 1 });
    const fixed = await upload(pool.id, { expiration: 'fixed', expiresOn: '2020-06-30' }, 'F1\nF2\n');
    expect(fixed.json()).toMatchObject({ imported: 2, alreadyExpired: 2 });
    const counts = (await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}`, headers: t.auth })).json().counts;
    expect(counts).toMatchObject({ total: 7, expired: 5, available: 2 });
  });
});

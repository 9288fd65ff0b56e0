import { expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant } from '../helpers/app.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

describeEachEngine('uploads', (ctx) => {
  const { app, t } = useTenant(ctx);

  const newPool = async (settings: object = {}) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `pool-${Math.random().toString(36).slice(2)}`, type: 'unique', ...settings },
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
  const counts = async (poolId: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json().counts;

  it('imports codes without expiration, skipping duplicates in the file and in the pool', async () => {
    const pool = await newPool();
    const first = await upload(pool.id, { expiration: 'none' }, 'A1\nA2\n\nA1\n  A3  \n');
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      status: 'imported',
      lines: 5,
      imported: 3,
      duplicates: 1,
      rejected: 0,
      errors: [],
      errorCount: 0,
    });
    const second = await upload(pool.id, {}, 'A3\r\nA4\r\n');
    expect(second.json()).toMatchObject({ imported: 1, duplicates: 1 });
    expect(await counts(pool.id)).toEqual({ total: 4, available: 4, assigned: 0, expired: 0, withinCutoff: 0, redeemed: 0 });
  });

  it('reads dates from the file with each delimiter, in the account time zone', async () => {
    for (const [delimiter, sep] of [
      [',', ','],
      [';', ';'],
      ['tab', '\t'],
      ['|', '|'],
    ] as const) {
      const pool = await newPool();
      // A quoted code may hold the delimiter, except a tab: that is a control character.
      const quoted = sep === '\t' ? '"X 3"' : `"X${sep}3"`;
      const res = await upload(
        pool.id,
        { expiration: 'file', delimiter },
        `X1${sep}2026-12-31\nX2${sep}12/30/2026\n${quoted}${sep}2026-12-29T10:00:00+02:00\n`,
      );
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ imported: 3, rejected: 0 });
    }
  });

  it('applies a fixed date, and refuses a second column with none or fixed', async () => {
    const pool = await newPool();
    const fixed = await upload(pool.id, { expiration: 'fixed', expiresOn: '2026-04-01', onInvalid: 'skip' }, 'F1\nF2,2026-05-01\n');
    expect(fixed.json()).toMatchObject({ imported: 1, rejected: 1, errors: [{ line: 2 }] });
    const missing = await upload(pool.id, { expiration: 'fixed' }, 'F3\n');
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.details[0].field).toBe('expiresOn');
  });

  it('rejects a whole file with an invalid line (reject) and leaves the pool as it was', async () => {
    const pool = await newPool();
    await upload(pool.id, {}, 'KEEP1\nKEEP2\n');
    const before = await counts(pool.id);
    const lines = ['GOOD1', 'x'.repeat(51), 'GOOD2', 'bad\u0001code', ...Array.from({ length: 150 }, (_, i) => `B${i},extra`)];
    const res = await upload(pool.id, { expiration: 'none', onInvalid: 'reject' }, lines.join('\n'));
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe('upload_rejected');
    expect(body.error.details).toHaveLength(100);
    expect(body.error.details[0]).toEqual({ line: 2, reason: expect.stringContaining('50') });
    expect(body.upload).toMatchObject({ status: 'rejected', lines: 154, imported: 0, errorCount: 152 });
    expect(await counts(pool.id)).toEqual(before);
    const listed = await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/uploads`, headers: t.auth });
    expect(listed.json().items.map((u: { status: string }) => u.status)).toEqual(['rejected', 'imported']);
  });

  it('imports the valid lines and reports the invalid ones (skip)', async () => {
    const pool = await newPool();
    const res = await upload(pool.id, { expiration: 'file', onInvalid: 'skip' }, 'code,expires\nS1,2026-12-31\nS2,2026-13-01\nS3\n');
    expect(res.json()).toMatchObject({ lines: 4, imported: 1, rejected: 3, errorCount: 3 });
    expect(res.json().errors.map((e: { line: number }) => e.line)).toEqual([1, 3, 4]);
  });

  it('imports a multi-chunk file whose later chunk repeats an earlier code (the slow path for that chunk only)', async () => {
    const pool = await newPool();
    const lines = Array.from({ length: 150_000 }, (_, i) => `M${i},2027-0${1 + Math.floor(i / 50_000)}-01`);
    lines[140_000] = 'M10,2027-03-01'; // duplicates line 11, three chunks earlier
    lines.push('M149999,2027-03-01'); // duplicates the line before it, within the last chunk
    const res = await upload(pool.id, { expiration: 'file' }, lines.join('\n'));
    expect(res.json()).toMatchObject({ status: 'imported', lines: 150_001, imported: 149_999, duplicates: 2, rejected: 0 });
    expect(await counts(pool.id)).toEqual({ total: 149_999, available: 149_999, assigned: 0, expired: 0, withinCutoff: 0, redeemed: 0 });
  }, 60_000);

  it('counts move with the clock: available, then inside the cutoff, then expired', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const pool = await newPool({ expirationCutoffDays: 7 });
    await upload(pool.id, { expiration: 'file' }, 'C1,2026-03-20\nC2,2026-03-20\nC3,2026-06-01\nC4,2026-03-05\n');
    await upload(pool.id, { expiration: 'none' }, 'C5\n');
    // Eligible from 2026-03-08T12:00: only C4 (2026-03-05) is inside the cutoff.
    expect(await counts(pool.id)).toEqual({ total: 5, available: 4, assigned: 0, expired: 0, withinCutoff: 1, redeemed: 0 });
    app.clock.set('2026-03-14T00:00:00Z'); // C1, C2 end 2026-03-20 23:59:59.999 UTC: now inside the 7-day cutoff
    expect(await counts(pool.id)).toEqual({ total: 5, available: 2, assigned: 0, expired: 1, withinCutoff: 2, redeemed: 0 });
    app.clock.set('2026-03-21T00:00:00Z');
    expect(await counts(pool.id)).toEqual({ total: 5, available: 2, assigned: 0, expired: 3, withinCutoff: 0, redeemed: 0 });
    app.clock.set('2026-03-01T12:00:00Z');
  });

  it('refuses uploads to static pools and to pools of other accounts', async () => {
    const staticPool = await newPool({ type: 'static' });
    expect((await upload(staticPool.id, {}, 'S\n')).statusCode).toBe(409);
    const other = await newTenant(app);
    const pool = await newPool();
    const body = multipart({}, { content: 'Z\n' });
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/uploads`,
      headers: { ...other.auth, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(404);
  });

  it('generates unique codes from a pattern', async () => {
    const pool = await newPool();
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/generate`,
      headers: t.auth,
      payload: { count: 5000, length: 8, prefix: 'SUM-', expiresOn: '2026-09-30' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ source: 'generate', imported: 5000, status: 'imported' });
    expect(await counts(pool.id)).toMatchObject({ total: 5000, available: 5000 });
    const tooMany = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/generate`,
      headers: t.auth,
      payload: { count: 1000, length: 4, alphabet: 'AB' },
    });
    expect(tooMany.statusCode).toBe(422);
  });

  /** Statuses of the pool's uploads, once one of them is `wanted` (the server records it after rolling back). */
  const waitForStatus = async (poolId: string, wanted: string) => {
    let items: { status: string; imported: number; fileName: string }[] = [];
    for (let i = 0; i < 200 && !items.some((u) => u.status === wanted); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}/uploads`, headers: t.auth })).json().items;
    }
    return items;
  };

  it('a client that closes the connection mid-file cancelled it: rolled back, recorded as cancelled', async () => {
    const pool = await newPool();
    await upload(pool.id, {}, 'BASE\n');
    const before = await counts(pool.id);
    const address = await app.http.listen({ port: 0, host: '127.0.0.1' });
    const boundary = 'dropboundary';
    const req = httpRequest(`${address}/v1/pools/${pool.id}/uploads`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('error', () => {});
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n\r\n`);
    for (let i = 0; i < 2000; i++) req.write(`DROP${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    req.destroy();
    const items = await waitForStatus(pool.id, 'cancelled');
    expect(items[0]).toMatchObject({ status: 'cancelled', fileName: 'c.txt', imported: 0 });
    expect(await counts(pool.id)).toEqual(before);
  });

  it('a body that ends before the file does, on an open connection, is a failed upload (400), not a cancel', async () => {
    const pool = await newPool();
    const before = await counts(pool.id);
    const boundary = 'cutboundary';
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/uploads`,
      headers: { ...t.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nCUT1\nCUT2\n`,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('multipart_truncated');
    expect(res.json().upload).toMatchObject({ status: 'failed', imported: 0 });
    expect((await waitForStatus(pool.id, 'failed'))[0]).toMatchObject({ status: 'failed', fileName: 'cut.txt' });
    expect(await counts(pool.id)).toEqual(before);
  });

  it('keeps blank lines and already-expired codes in the stored record: lines = imported + duplicates + rejected + blank', async () => {
    const pool = await newPool();
    const res = await upload(
      pool.id,
      { expiration: 'file', onInvalid: 'skip' },
      'OLD1,2001-01-01\n\nNEW1,2999-01-01\n   \nNEW1,2999-01-01\nBAD,notadate\nOLD2,2002-02-02\n',
    );
    expect(res.statusCode, res.body).toBe(201);
    const answer = res.json();
    expect(answer).toMatchObject({ status: 'imported', lines: 7, imported: 3, duplicates: 1, rejected: 1, blank: 2, alreadyExpired: 2 });
    expect(answer.lines).toBe(answer.imported + answer.duplicates + answer.rejected + answer.blank);
    const stored = (await app.http.inject({ method: 'GET', url: `/v1/pools/${pool.id}/uploads`, headers: t.auth })).json().items[0];
    expect(stored).toMatchObject({ id: answer.id, lines: 7, imported: 3, duplicates: 1, rejected: 1, blank: 2, alreadyExpired: 2 });
  });
});

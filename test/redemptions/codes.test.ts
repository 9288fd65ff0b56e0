import { beforeAll, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { redemptionApi } from './setup.ts';

describeEachEngine('codes out: list and export with status', (ctx) => {
  const { app, t } = useTenant(ctx);
  let api: ReturnType<typeof redemptionApi>;
  let poolId: string;
  let firstUpload: string;
  let secondUpload: string;
  beforeAll(async () => {
    api = redemptionApi(app, t);
    poolId = await api.pool({ type: 'unique' });
    // A-1 soonest: assigned to ann, then redeemed; A-2 assigned to bob; OLD expired; the rest available.
    firstUpload = (
      await api.upload(poolId, ['A-1,2026-03-05', 'A-2,2026-03-06', 'OLD,2026-02-01', 'B-1,2026-09-01', '=SUM(A1),2026-09-02'], 'file')
    ).id;
    // The second file repeats A-1 (a duplicate stays the first upload's) and adds one code.
    secondUpload = (await api.upload(poolId, ['A-1,2026-03-05', '-5OFF,2026-09-03'], 'file')).id;
    await api.assign(poolId, 'ann@example.com');
    await api.assign(poolId, 'bob@example.com');
    expect((await api.redeem({ code: 'A-1', orderId: 'o-1' })).statusCode).toBe(201);
  });

  const list = async (query: string) => {
    const res = await api.call('GET', `/v1/pools/${poolId}/codes${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      items: {
        code: string;
        status: string;
        email: string | null;
        redeemedAt: string | null;
        assignedAt: string | null;
        uploadId: string | null;
      }[];
      nextCursor: string | null;
    };
  };

  it('lists every code with its status, in code order', async () => {
    const { items } = await list('');
    // In the database's collation (C on one engine, a locale on another): the cursor follows the same order.
    expect(Object.fromEntries(items.map((c) => [c.code, c.status]))).toEqual({
      '-5OFF': 'available',
      '=SUM(A1)': 'available',
      'A-1': 'redeemed',
      'A-2': 'assigned',
      'B-1': 'available',
      OLD: 'expired',
    });
    const a1 = items.find((c) => c.code === 'A-1')!;
    expect(a1).toMatchObject({
      email: 'ann@example.com',
      assignedAt: '2026-03-01T12:00:00.000Z',
      redeemedAt: '2026-03-01T12:00:00.000Z',
      uploadId: firstUpload,
    });
    expect(items.find((c) => c.code === '-5OFF')!.uploadId).toBe(secondUpload);
  });

  it('filters by status and searches by code prefix or email; pages with a cursor', async () => {
    expect((await list('?status=redeemed')).items.map((c) => c.code)).toEqual(['A-1']);
    expect((await list('?status=assigned')).items.map((c) => c.code)).toEqual(['A-2']);
    expect((await list('?status=expired')).items.map((c) => c.code)).toEqual(['OLD']);
    expect((await list('?status=available')).items).toHaveLength(3);
    expect((await list('?q=A-')).items.map((c) => c.code)).toEqual(['A-1', 'A-2']);
    expect((await list('?q=BOB@example.com')).items.map((c) => c.code)).toEqual(['A-2']);
    const all = (await list('')).items.map((c) => c.code);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.items.map((c) => c.code));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);
    expect((await api.call('GET', `/v1/pools/${poolId}/codes?status=lost`)).statusCode).toBe(422);
  });

  it('exports the same as CSV, with formula-safe cells, and the same filters', async () => {
    const res = await api.call('GET', `/v1/pools/${poolId}/codes/export`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.code)).toEqual((await list('')).items.map((c) => (/^[=+\-@]/.test(c.code) ? `'${c.code}` : c.code)));
    expect(rows.find((r) => r.code === 'A-1')).toMatchObject({
      status: 'redeemed',
      email: 'ann@example.com',
      expiresAt: '2026-03-05T23:59:59.999Z',
    });
    const redeemed = parse((await api.call('GET', `/v1/pools/${poolId}/codes/export?status=redeemed`)).body, { columns: true }) as Record<
      string,
      string
    >[];
    expect(redeemed.map((r) => r.code)).toEqual(['A-1']);
    expect((await api.call('GET', `/v1/pools/01900000-0000-7000-8000-000000000000/codes/export`)).statusCode).toBe(404);
  });

  it('keeps the codes of one upload (list and export); an upload of another pool is not found', async () => {
    expect((await list(`?uploadId=${secondUpload}`)).items.map((c) => c.code)).toEqual(['-5OFF']);
    expect((await list(`?uploadId=${firstUpload}&status=available`)).items.map((c) => c.code).sort()).toEqual(['=SUM(A1)', 'B-1']);
    const rows = parse((await api.call('GET', `/v1/pools/${poolId}/codes/export?uploadId=${firstUpload}`)).body, {
      columns: true,
    }) as Record<string, string>[];
    expect(rows.map((r) => r.code).sort()).toEqual(["'=SUM(A1)", 'A-1', 'A-2', 'B-1', 'OLD']);
    expect(new Set(rows.map((r) => r.uploadId))).toEqual(new Set([firstUpload]));
    const other = await api.pool({ type: 'unique' });
    const foreign = (await api.upload(other, ['Z-1'])).id;
    const res = await api.call('GET', `/v1/pools/${poolId}/codes?uploadId=${foreign}`);
    expect(res.statusCode).toBe(404);
    expect((await api.call('GET', `/v1/pools/${poolId}/codes/export?uploadId=${foreign}`)).statusCode).toBe(404);
  });
});

import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';

describeEachEngine('static codes', (ctx) => {
  const { app, t } = useTenant(ctx);
  let poolId: string;
  beforeAll(async () => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: 'SUMMERSAVE', type: 'static', defaultCode: 'ALWAYS5' },
    });
    poolId = res.json().id;
  });

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    app.http.inject({ method, url: `/v1/pools/${poolId}/static-codes${url}`, headers: t.auth, ...(payload && { payload }) });

  const june = { code: 'SUMMER10', expiresOn: '2026-07-15', beginDistribution: '2026-06-01', endDistribution: '2026-06-30' };
  const august = { code: 'AUGUST15', daysAfterDistribution: 14, beginDistribution: '2026-08-01', endDistribution: '2026-08-31' };

  it('validates rows without saving: a gap is a warning, naming the row', async () => {
    const res = await call('POST', '/validate', { rows: [june, august] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ valid: true, errors: [] });
    expect(res.json().warnings.length).toBeGreaterThan(0);
    expect((await call('GET', '')).json().rows).toEqual([]);
  });

  it('reports errors per row and field: overlap, begin after end, expiration before the end, missing code', async () => {
    const res = await call('POST', '/validate', {
      rows: [
        june,
        { ...june, code: 'OVERLAP', beginDistribution: '2026-06-15', endDistribution: '2026-07-10', expiresOn: '2026-08-01' },
        { code: '', daysAfterDistribution: 3, beginDistribution: '2026-09-10', endDistribution: '2026-09-01' },
        { code: 'EARLY', expiresOn: '2026-10-05', beginDistribution: '2026-10-01', endDistribution: '2026-10-10' },
      ],
    });
    const { valid, errors } = res.json();
    expect(valid).toBe(false);
    const where = errors.map((e: { row: number; field: string }) => `${e.row}:${e.field}`);
    expect(where).toEqual(expect.arrayContaining(['2:code', '3:expiresOn']));
    expect(errors.some((e: { row: number }) => e.row === 1)).toBe(true); // the overlap names the later row
    expect(errors.some((e: { row: number; field: string }) => e.row === 2 && /begin|end/i.test(e.field))).toBe(true);
  });

  it('saves valid rows and refuses rows with errors (422), keeping the saved ones', async () => {
    const saved = await call('PUT', '', { rows: [june, august] });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().rows).toHaveLength(2);
    const bad = await call('PUT', '', { rows: [{ ...june, code: 'x'.repeat(51) }] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0]).toMatchObject({ row: 0, field: 'code' });
    const rows = (await call('GET', '')).json().rows;
    expect(rows.map((r: { code: string }) => r.code)).toEqual(['SUMMER10', 'AUGUST15']);
    expect(rows[1]).toMatchObject({ daysAfterDistribution: 14, expiresOn: null });
  });

  it('counts a static pool by its rows and the window open now', async () => {
    app.clock.set('2026-06-10T12:00:00Z');
    const pool = (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json();
    expect(pool.counts).toMatchObject({ total: 2, available: 1, expired: 0 });
    app.clock.set('2026-07-10T12:00:00Z');
    const gap = (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json();
    expect(gap.counts).toMatchObject({ total: 2, available: 0, expired: 1 });
  });

  it('refuses rows for a unique pool', async () => {
    const unique = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: 'U', type: 'unique' },
    });
    const res = await app.http.inject({
      method: 'PUT',
      url: `/v1/pools/${unique.json().id}/static-codes`,
      headers: t.auth,
      payload: { rows: [june] },
    });
    expect(res.statusCode).toBe(409);
  });
});

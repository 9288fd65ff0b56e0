import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { runScript } from '../helpers/script.ts';
import { useTenant } from '../helpers/fixture.ts';
import { multipart } from '../helpers/multipart.ts';

type Outcome = { code: string | null; source: string | null; failure?: string };

const runProcess = (env: Record<string, string>) => runScript<Outcome[]>('test/assignments/assign-process.ts', env);

describePostgres('assignment under concurrency', (ctx) => {
  const { app, t } = useTenant(ctx);

  const poolWith = async (codes: number, settings: object = {}) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `race-${Math.random().toString(36).slice(2)}`, type: 'unique', ...settings },
    });
    const pool = res.json();
    const body = multipart(
      { expiration: 'file' },
      { content: Array.from({ length: codes }, (_, i) => `R${i},2027-0${1 + (i % 9)}-15`).join('\n') },
    );
    const up = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${pool.id}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(up.json().imported).toBe(codes);
    return pool.id as string;
  };

  for (const mode of ['single', 'batch'] as const) {
    it(`8 processes (${mode}) assigning from a pool smaller than the demand: no code twice, exact unique/default split`, async () => {
      const poolId = await poolWith(300, { defaultCode: 'FALLBACK' });
      const env = { ...ctx.env, ACCOUNT_ID: t.accountId, POOL_ID: poolId, COUNT: '50', MODE: mode };
      const results = (await Promise.all(Array.from({ length: 8 }, (_, p) => runProcess({ ...env, PREFIX: `${mode}-p${p}` })))).flat();
      expect(results).toHaveLength(400);
      const unique = results.filter((r) => r.source === 'unique').map((r) => r.code);
      expect(new Set(unique).size).toBe(unique.length); // zero duplicates
      expect(unique).toHaveLength(300);
      expect(results.filter((r) => r.source === 'default')).toHaveLength(100);
      const pool = (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json();
      expect(pool.counts).toEqual({ total: 300, available: 0, assigned: 300, expired: 0, withinCutoff: 0, redeemed: 0 });
      const stored = await sql<{ n: number; codes: number; keys: number }>`
        select count(*) as n, count(distinct code_id) as codes, count(distinct idempotency_key) as keys
        from assignments a join pools p on p.key = a.pool_key where p.id = ${poolId}`.execute(ctx.database.db);
      expect(stored.rows[0]).toEqual({ n: 400, codes: 300, keys: 400 });
    }, 120_000);
  }

  it('the same idempotency key sent at once from 8 processes yields one code', async () => {
    const poolId = await poolWith(50);
    const env = { ...ctx.env, ACCOUNT_ID: t.accountId, POOL_ID: poolId, COUNT: '4', MODE: 'samekey', PREFIX: 'same' };
    const results = (await Promise.all(Array.from({ length: 8 }, () => runProcess(env)))).flat();
    expect(results).toHaveLength(32);
    expect(new Set(results.map((r) => r.code)).size).toBe(1);
    expect(results[0]!.source).toBe('unique');
    const pool = (await app.http.inject({ method: 'GET', url: `/v1/pools/${poolId}`, headers: t.auth })).json();
    expect(pool.counts).toMatchObject({ assigned: 1, available: 49 });
  }, 120_000);
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { runScript } from '../helpers/script.ts';
import { testApp } from '../helpers/app.ts';
import { redemptionApi } from '../redemptions/setup.ts';
import { tenantIn } from './setup.ts';

const runProcess = (env: Record<string, string>) => runScript<{ written: number }>('test/reports/history-process.ts', env);

describePostgres('daily history: exactly once across processes', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
  });
  afterAll(() => app.http.close());

  it('4 processes running the job at the same instant (twice each) write every (pool, day) row once, with the same figures', async () => {
    app.clock.set('2026-03-02T12:00:00Z');
    const pools: string[] = [];
    for (const zone of ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo']) {
      const t = await tenantIn(app, zone);
      const api = redemptionApi(app, t);
      for (let p = 0; p < 3; p++) {
        const poolId = await api.pool({ type: 'unique' });
        await api.upload(
          poolId,
          Array.from({ length: 10 }, (_, i) => `C-${p}-${i}`),
        );
        for (let i = 0; i <= p; i++) await api.assign(poolId, `c${i}@example.com`);
        pools.push(poolId);
      }
    }
    // 16:00 UTC on March 6: March 2–5 have ended in New York and Berlin; in Tokyo (01:00, March 7) March 6 too.
    const now = '2026-03-06T16:00:00Z';
    const results = await Promise.all(Array.from({ length: 4 }, () => runProcess({ ...ctx.env, NOW: now })));
    const rows = await sql<{ pool_id: string; day: string; assigned: string; available: string }>`
      select p.id as pool_id, h.day::text as day, h.assigned::text, h.available::text
      from pool_daily_history h join pools p on p.key = h.pool_key order by p.id, h.day`.execute(ctx.database.db);
    const expectedRows = 3 * 4 + 3 * 4 + 3 * 5; // New York and Berlin: March 2–5; Tokyo: March 2–6
    expect(rows.rows).toHaveLength(expectedRows);
    // Every row inserted by exactly one process: the processes' counts add up to the rows.
    expect(results.reduce((n, r) => n + r.written, 0)).toBe(expectedRows);
    // And its figures: pool p got p + 1 assignments on March 2 and none later.
    for (const [i, poolId] of pools.entries()) {
      const mine = rows.rows.filter((r) => r.pool_id === poolId);
      const p = i % 3;
      expect(mine[0]).toMatchObject({ day: '2026-03-02', assigned: String(p + 1), available: String(10 - (p + 1)) });
      expect(mine.slice(1).every((r) => r.assigned === '0' && r.available === String(10 - (p + 1)))).toBe(true);
    }
  }, 120_000);
});

import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { runScript } from '../helpers/script.ts';
import { useTenant } from '../helpers/fixture.ts';
import { redemptionApi } from './setup.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

type Result = { won: string[]; failures: Record<string, number> };

const runProcess = (env: Record<string, string>) => runScript<Result>('test/redemptions/redeem-process.ts', env);

describePostgres('redemption under concurrency', (ctx) => {
  const { app, t } = useTenant(ctx);

  it('8 processes redeeming the same 1,000 unique codes with different orders: exactly one winner per code', async () => {
    const api = redemptionApi(app, t);
    const poolId = await api.pool({ type: 'unique' });
    const codes = Array.from({ length: 1000 }, (_, i) => `RACE-${i}`);
    await api.upload(poolId, codes);
    const pool = await app.services.pools.getPoolFor(ownerPrincipal(t.accountId, 't'), poolId);
    const requests = [];
    for (let i = 0; i < codes.length; i++) {
      const contact = await app.services.contacts.resolveContact(t.accountId, { email: `race-${i}@example.com` });
      requests.push({ contactId: contact.id, idempotencyKey: `k-${i}` });
    }
    for (let i = 0; i < requests.length; i += 250) await app.services.assignments.assignMany(pool, requests.slice(i, i + 250));

    const env = { ...ctx.env, ACCOUNT_ID: t.accountId, MERCHANT_ID: t.merchantId, CODES: codes.join(',') };
    const results = await Promise.all(Array.from({ length: 8 }, (_, p) => runProcess({ ...env, PREFIX: `p${p}`, START: String(p * 125) })));
    const won = results.flatMap((r) => r.won);
    expect(won).toHaveLength(1000);
    expect(new Set(won).size).toBe(1000);
    const failures: Record<string, number> = {};
    for (const r of results) for (const [reason, n] of Object.entries(r.failures)) failures[reason] = (failures[reason] ?? 0) + n;
    expect(failures).toEqual({ already_redeemed: 7000 }); // every loser got 409 already_redeemed, nothing else

    const stored = await sql<{ n: number; codes: number; doubles: number }>`
      select count(*)::int as n, count(distinct code_id)::int as codes,
             (select count(*)::int from (select code_id from redemptions where pool_key = ${pool.key} group by code_id having count(*) > 1) d) as doubles
      from redemptions where pool_key = ${pool.key} and rolled_back_at is null`.execute(ctx.database.db);
    expect(stored.rows[0]).toEqual({ n: 1000, codes: 1000, doubles: 0 });
  }, 240_000);
});

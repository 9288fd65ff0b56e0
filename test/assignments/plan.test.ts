import { expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { assignStatement, claimStatement } from '../../src/modules/assignments/assignments.sql.ts';
import { assignOneStatement } from '../../src/modules/assignments/assign-one.sql.ts';

/**
 * The claim must follow codes_claim_idx whatever the statistics say: fresh, stale (the table was
 * analyzed while empty, then filled), or after most codes were assigned.
 */
describeEachEngine('the claim query plan', (ctx) => {
  const at = new Date('2026-01-01T00:00:00Z');
  const explain = async (stmt: RawBuilder<unknown>) => {
    const res = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${stmt}`.execute(ctx.database.db);
    return JSON.stringify(res.rows[0]!['QUERY PLAN']);
  };
  /** The bare claim and the claim inside the assignment statement, each: index scan, then TID scan. */
  const planOf = async (poolKey: number) => {
    const bare = await explain(claimStatement({ poolKey, eligibleFrom: at, count: 100, now: at }));
    const requests = Array.from({ length: 100 }, (_, i) => ({ contactId: `c${i}`, idempotencyKey: `k${i}`, id: `a${i}` }));
    const assign = await explain(
      assignStatement({ accountId: 'plan-acct', poolKey, requests, claim: true, fallback: undefined, eligibleFrom: at, now: at, slot: 0 }),
    );
    // The single HTTP assignment's statement, with its contact, webhook and audit CTEs around the claim.
    const one = await explain(
      assignOneStatement({
        accountId: 'plan-acct',
        pool: { key: poolKey, id: 'plan-a', merchantId: 'plan-m' },
        contact: { email: 'plan@example.com', newId: 'c-new' },
        idempotencyKey: 'k-one',
        assignmentId: 'a-one',
        claim: true,
        fallback: undefined,
        eligibleFrom: at,
        now: at,
        slot: 0,
        webhookEventId: 'e-one',
        audit: undefined,
        watch: true,
      }),
    );
    for (const plan of [bare, assign, one]) expect(plan).toContain('Tid Scan');
    return [bare, assign, one].every((plan) => plan.includes('codes_claim_idx')) ? 'codes_claim_idx' : `${bare}\n${assign}\n${one}`;
  };

  it('uses the claim index with stale, fresh and skewed statistics', async () => {
    const db = ctx.database.db;
    await sql`insert into accounts (id, name) values ('plan-acct', 'plan')`.execute(db);
    await sql`insert into merchants (account_id, id, name, domain) values ('plan-acct', 'plan-m', 'm', 'm.example.com')`.execute(db);
    const keys: number[] = [];
    for (const id of ['plan-a', 'plan-b']) {
      const r = await sql<{
        key: number;
      }>`insert into pools (account_id, id, merchant_id, name, type) values ('plan-acct', ${id}, 'plan-m', ${id}, 'unique') returning key`.execute(
        db,
      );
      keys.push(Number(r.rows[0]!.key));
    }
    await sql`analyze codes`.execute(db); // statistics of an empty table
    await sql`insert into codes (account_id, pool_key, code, expires_at)
      select 'plan-acct', ${keys[0]}, 'A' || g, timestamptz '2027-01-01' + (g % 90) * interval '1 day' from generate_series(1, 60000) g`.execute(
      db,
    );
    await sql`insert into codes (account_id, pool_key, code, expires_at)
      select 'plan-acct', ${keys[1]}, 'B' || g, 'infinity' from generate_series(1, 2000) g`.execute(db);
    expect(await planOf(keys[1]!)).toContain('codes_claim_idx'); // stale
    await sql`analyze codes`.execute(db);
    expect(await planOf(keys[0]!)).toContain('codes_claim_idx'); // fresh
    await sql`update codes set assigned_at = now() where pool_key = ${keys[0]} and id % 10 <> 0`.execute(db);
    await sql`analyze codes`.execute(db);
    expect(await planOf(keys[0]!)).toContain('codes_claim_idx'); // mostly assigned
    expect(await planOf(keys[1]!)).toContain('codes_claim_idx');
  });
});

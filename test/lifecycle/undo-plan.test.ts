import { expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { countUnassignedStatement, removeUnassignedStatement } from '../../src/modules/uploads/uploads.sql.ts';

/**
 * An undo and its preview find one upload's unassigned codes through codes_upload_unassigned_idx
 * (migration 0018), never by scanning the pool's codes: with fresh statistics, with stale ones
 * (analyzed while empty) and when the upload is a sliver of a big pool.
 */
describeEachEngine('the undo query plan', (ctx) => {
  const explain = async (stmt: RawBuilder<unknown>) => {
    const res = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${stmt}`.execute(ctx.database.db);
    return JSON.stringify(res.rows[0]!['QUERY PLAN']);
  };
  const plans = async (poolKey: number, uploadKey: number) => [
    await explain(removeUnassignedStatement({ accountId: 'undo-plan', poolKey, uploadKey })),
    await explain(countUnassignedStatement({ poolKey, uploadKey })),
  ];

  it('uses codes_upload_unassigned_idx, not a scan of the pool', async () => {
    const db = ctx.database.db;
    await sql`insert into accounts (id, name) values ('undo-plan', 'plan')`.execute(db);
    await sql`insert into merchants (account_id, id, name, domain) values ('undo-plan', 'undo-m', 'm', 'm.example.com')`.execute(db);
    const pool = await sql<{ key: number }>`
      insert into pools (account_id, id, merchant_id, name, type) values ('undo-plan', 'undo-p', 'undo-m', 'p', 'unique') returning key`.execute(
      db,
    );
    const poolKey = Number(pool.rows[0]!.key);
    await sql`analyze codes`.execute(db); // statistics of an empty table
    // 60,000 codes in 3 big uploads (keys 1–3, a tenth assigned) and 50 in a small one (key 4).
    await sql`insert into codes (account_id, pool_key, code, expires_at, assigned_at, upload_key)
      select 'undo-plan', ${poolKey}, 'U' || g, 'infinity', case when g % 10 = 0 then now() end, 1 + (g - 1) / 20000
      from generate_series(1, 60000) g`.execute(db);
    await sql`insert into codes (account_id, pool_key, code, expires_at, upload_key)
      select 'undo-plan', ${poolKey}, 'S' || g, 'infinity', 4 from generate_series(1, 50) g`.execute(db);
    for (const plan of await plans(poolKey, 4)) {
      expect(plan).toContain('codes_upload_unassigned_idx'); // stale
      expect(plan).not.toContain('Seq Scan');
    }
    await sql`analyze codes`.execute(db);
    for (const uploadKey of [4, 2])
      for (const plan of await plans(poolKey, uploadKey)) {
        expect(plan, `upload ${uploadKey}`).toContain('codes_upload_unassigned_idx'); // fresh
        expect(plan).not.toContain('Seq Scan');
      }
  });
});

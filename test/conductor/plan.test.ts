import { expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { claimDueRunsStatement } from '../../src/modules/conductor/conductor.sql.ts';

/**
 * The engine's run claim follows the claim idiom (as test/assignments/plan.test.ts pins for
 * codes): the locking pick walks enrollments_due_idx, and the runs are read back by a TID scan,
 * with empty, stale and fresh statistics.
 */
describeEachEngine('the run claim query plan', (ctx) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const explain = async (stmt: RawBuilder<unknown>) => {
    const res = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${stmt}`.execute(ctx.database.db);
    return JSON.stringify(res.rows[0]!['QUERY PLAN']);
  };

  it('claims through enrollments_due_idx and a TID scan, whatever the statistics say', async () => {
    const db = ctx.database.db;
    await sql`insert into accounts (id, name) values ('plan-acct', 'plan')`.execute(db);
    await sql`insert into conversations (account_id, id, name, trigger_event, draft, created_at, updated_at)
      values ('plan-acct', 'plan-conv', 'plan', 'signup', '{}', now(), now())`.execute(db);
    await sql`analyze enrollments`.execute(db); // statistics of an empty table
    await sql`insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
      select 'plan-acct', 'r' || g, 'plan-conv', 1, 'c' || g, case when g % 10 = 0 then 'active' else 'completed' end, 0,
             timestamptz '2025-12-31' + (g % 48) * interval '1 hour', now(), now()
      from generate_series(1, 40000) g`.execute(db);
    for (const moment of ['stale', 'fresh'] as const) {
      if (moment === 'fresh') await sql`analyze enrollments`.execute(db);
      const plan = await explain(claimDueRunsStatement(now, 100));
      expect(plan, moment).toContain('Tid Scan');
      expect(plan, moment).toContain('enrollments_due_idx');
      expect(plan, moment).not.toContain('Hash Join');
    }
  });
});

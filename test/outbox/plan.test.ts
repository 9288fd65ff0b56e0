import { expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { claimDueStatement } from '../../src/modules/outbox/outbox.sql.ts';

/**
 * The sender's claim follows the claim idiom (as test/assignments/plan.test.ts pins for codes):
 * the locking pick walks outbox_due_idx, and the update finds the picked rows by a TID scan —
 * never a join that could turn into a hash join over every mail — with empty, stale and fresh
 * statistics.
 */
describeEachEngine('the outbox claim query plan', (ctx) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const explain = async (stmt: RawBuilder<unknown>) => {
    const res = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${stmt}`.execute(ctx.database.db);
    return JSON.stringify(res.rows[0]!['QUERY PLAN']);
  };
  const planOfClaim = () =>
    explain(claimDueStatement({ now, limit: 100, leaseUntil: new Date(now.getTime() + 300_000), leaseToken: 'plan' }));

  it('claims through outbox_due_idx and a TID scan, whatever the statistics say', async () => {
    const db = ctx.database.db;
    await sql`insert into accounts (id, name) values ('plan-acct', 'plan')`.execute(db);
    await sql`analyze outbox`.execute(db); // statistics of an empty table
    await sql`insert into outbox (account_id, id, kind, to_email, from_name, from_email, subject, html, message_id, status, transport,
                                  next_attempt_at, created_at, sent_at)
      select 'plan-acct', 'm' || g, 'message', 'c' || g || '@example.com', 'Shop', 'shop@example.com', 's', '<p>x</p>', '<' || g || '@x>',
             case when g % 20 = 0 then 'queued' else 'sent' end, 'smtp',
             case when g % 20 = 0 then timestamptz '2025-12-31' + (g % 7) * interval '1 hour' else null end,
             timestamptz '2025-12-01', case when g % 20 = 0 then null else timestamptz '2025-12-02' end
      from generate_series(1, 40000) g`.execute(db);
    for (const moment of ['stale', 'fresh'] as const) {
      if (moment === 'fresh') await sql`analyze outbox`.execute(db);
      const plan = await planOfClaim();
      expect(plan, moment).toContain('Tid Scan');
      expect(plan, moment).toContain('outbox_due_idx');
      expect(plan, moment).not.toContain('Hash Join');
    }
  });
});

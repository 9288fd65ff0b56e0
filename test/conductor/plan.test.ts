import { expect, it } from 'vitest';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../src/schema.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { claimDueRunsStatement, exitRunsStatement, writeBatchStatement } from '../../src/modules/conductor/conductor.sql.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PlanNode[];
}

/** The plan's reads of `table` that are not narrowed to one contact or to rows named by id. */
const unnarrowedScans = (node: PlanNode, table = 'enrollments'): string[] => {
  const cond = `${node['Index Cond'] ?? ''} ${node['Recheck Cond'] ?? ''}`;
  const own =
    node['Relation Name'] === table && node['Node Type'] !== 'ModifyTable' && !/contact_id = |\bid = ANY/.test(cond)
      ? [`${node['Node Type']} ${cond}`]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap((p) => unnarrowedScans(p, table))];
};

const planOf = async (db: Kysely<DB>, stmt: RawBuilder<unknown>) =>
  (await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (format json) ${stmt}`.execute(db)).rows[0]!['QUERY PLAN'][0].Plan;

/** An account with one conversation, as the plan tests' runs need. */
const seedConversation = (db: Kysely<DB>, account: string, conversation: string) =>
  sql`with a as (insert into accounts (id, name) values (${account}, ${account}))
    insert into conversations (account_id, id, name, trigger_event, draft, created_at, updated_at)
    values (${account}, ${conversation}, ${conversation}, 'signup', '{}', now(), now())`.execute(db);

describeEachEngine('the run claim query plan', (ctx) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const explain = async (stmt: RawBuilder<unknown>) => {
    const res = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${stmt}`.execute(ctx.database.db);
    return JSON.stringify(res.rows[0]!['QUERY PLAN']);
  };

  it('claims through enrollments_due_idx and a TID scan, whatever the statistics say', async () => {
    const db = ctx.database.db;
    await seedConversation(db, 'plan-acct', 'plan-conv');
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

/** Its own suite, so its enrollments table has no statistics from the claim's test. */
describeEachEngine('the exit statement query plan', (ctx) => {
  it('exits runs by an index lookup per event, never a loop over all open runs, whatever the statistics say', async () => {
    const db = ctx.database.db;
    await seedConversation(db, 'exit-acct', 'exit-conv');
    await sql`insert into conversation_versions (account_id, conversation_id, version, document, trigger_event, exit_events, published_at)
      values ('exit-acct', 'exit-conv', 1, '{}', 'signup', '{order}', now())`.execute(db);
    // No statistics yet, as in a new installation's first burst of intake (autovacuum has not analyzed it).
    await sql`insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
      select 'exit-acct', 'x' || g, 'exit-conv', 1, 'c' || g, 'active', 0, now(), now(), now()
      from generate_series(1, 40000) g`.execute(db);
    const events = Array.from({ length: 1000 }, (_, i) => ({ contactId: `c${i * 7 + 1}`, type: i % 2 ? 'order' : 'signup' }));
    for (const moment of ['never analyzed', 'fresh'] as const) {
      if (moment === 'fresh') await sql`analyze enrollments`.execute(db);
      const plan = await planOf(db, exitRunsStatement('exit-acct', events, new Date(), []));
      expect(JSON.stringify(plan), moment).toContain('enrollments_contact_idx');
      expect(unnarrowedScans(plan), moment).toEqual([]);
    }
    const exited = await exitRunsStatement('exit-acct', events, new Date(), []).execute(db);
    expect(exited.rows).toHaveLength(500);
    const reasons = await sql<{ n: number }>`select count(*)::int as n from enrollments where exit_reason = 'exit event order'`.execute(db);
    expect(reasons.rows[0]!.n).toBe(500);
  });
});

/** Its own suite: contacts and enrollments with no statistics at first. */
describeEachEngine('the batch write query plan', (ctx) => {
  it('updates the contacts and runs of a batch by primary key, never a scan of the account, whatever the statistics say', async () => {
    const db = ctx.database.db;
    await seedConversation(db, 'wb-acct', 'wb-conv');
    await sql`insert into contacts (account_id, id, email) select 'wb-acct', 'c' || g, 'c' || g || '@example.com'
      from generate_series(1, 40000) g`.execute(db);
    await sql`insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
      select 'wb-acct', 'r' || g, 'wb-conv', 1, 'c' || g, 'active', 0, now(), now(), now()
      from generate_series(1, 40000) g`.execute(db);
    const now = new Date();
    const ids = Array.from({ length: 1000 }, (_, i) => i * 37 + 1);
    const writes = {
      patches: ids.map((i) => ({ id: `c${i}`, patch: { code: `CODE${i}` } })),
      stepRuns: [],
      updates: ids.map((i) => ({
        id: `r${i}`,
        status: i % 2 ? ('completed' as const) : ('active' as const),
        stepIndex: 1,
        stepPath: i % 2 ? null : 'steps.1',
        nextDueAt: now.toISOString(),
        exitReason: null,
        waitingFor: null,
        waitUntil: null,
        receivedAt: null,
      })),
    };
    for (const moment of ['never analyzed', 'fresh'] as const) {
      if (moment === 'fresh') await sql`analyze contacts; analyze enrollments`.execute(db);
      const plan = await planOf(db, writeBatchStatement('wb-acct', writes, now));
      expect(unnarrowedScans(plan, 'contacts'), moment).toEqual([]);
      expect(unnarrowedScans(plan, 'enrollments'), moment).toEqual([]);
    }
    await writeBatchStatement('wb-acct', writes, now).execute(db);
    const after = await sql<{ done: number; active: number; patched: number; ended: number }>`
      select count(*) filter (where e.status = 'completed' and e.step_path is null)::int as done,
             count(*) filter (where e.status = 'active' and e.step_index = 1 and e.step_path = 'steps.1')::int as active,
             count(*) filter (where c.fields ->> 'code' = 'CODE' || substr(c.id, 2))::int as patched,
             count(*) filter (where e.ended_at is not null)::int as ended
      from enrollments e join contacts c on c.account_id = e.account_id and c.id = e.contact_id`.execute(db);
    expect(after.rows[0]).toEqual({ done: 500, active: 500, patched: 1000, ended: 500 });
  });
});

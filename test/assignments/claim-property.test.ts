import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openMigratedDatabase, type TestDatabase } from '../helpers/engines.ts';
import { assignStatement } from '../../src/modules/assignments/assignments.sql.ts';

/**
 * The real assignment statement (claim, record, counters) on PGlite, under random sequences of
 * rounds: each round starts several claims at once (their transactions queue on the one
 * connection, in the order the round lists them), some of which roll back after claiming. After
 * every round: no code is handed twice, every claimed code has exactly one assignment, the
 * counter rows equal count(*) over the codes, and the daily counter equals the unique
 * assignments. Each claim gets what it asked for while codes remain, soonest expiration first.
 */
describe('the claim statement, property-based (PGlite)', () => {
  let t: TestDatabase;
  let pools = 0;
  const account = 'prop-acct';
  const now = new Date('2026-01-01T00:00:00Z');

  beforeAll(async () => {
    t = await openMigratedDatabase('pglite');
    const db = t.database.db;
    await sql`insert into accounts (id, name) values (${account}, 'prop')`.execute(db);
    await sql`insert into merchants (account_id, id, name, domain) values (${account}, 'prop-m', 'm', 'm.example.com')`.execute(db);
  });
  afterAll(() => t?.close());

  /** A fresh pool of `codes` codes over a few expiration instants (some never expire), with its counters. */
  async function newPool(codes: number): Promise<number> {
    const db = t.database.db;
    const id = `prop-pool-${++pools}`;
    const r = await sql<{ key: number }>`
      insert into pools (account_id, id, merchant_id, name, type) values (${account}, ${id}, 'prop-m', ${id}, 'unique') returning key`.execute(
      db,
    );
    const key = Number(r.rows[0]!.key);
    await sql`insert into codes (account_id, pool_key, code, expires_at)
      select ${account}, ${key}, 'C' || g,
             case when g % 4 = 0 then 'infinity'::timestamptz else timestamptz '2027-01-01' + (g % 3) * interval '1 day' end
      from generate_series(1, ${codes}::int) g`.execute(db);
    await sql`insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      select ${account}, ${key}, expires_at, 0, count(*), count(*) from codes where pool_key = ${key} group by expires_at`.execute(db);
    return key;
  }

  const claim = fc.record({ count: fc.integer({ min: 1, max: 7 }), slot: fc.integer({ min: 0, max: 3 }), rollBack: fc.boolean() });
  const rounds = fc.array(fc.array(claim, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 });

  it('never hands a code twice, and the counters always equal count(*)', async () => {
    let request = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), rounds, async (size, plan) => {
        const db = t.database.db;
        const poolKey = await newPool(size);
        let remaining = size;
        for (const round of plan) {
          const expected = round.map((c) => {
            const got = Math.min(c.count, remaining);
            if (!c.rollBack) remaining -= got;
            return got;
          });
          const answers = await Promise.all(
            round.map((c) => {
              const requests = Array.from({ length: c.count }, () => ({
                contactId: `ct${++request}`,
                idempotencyKey: `k${request}`,
                id: `a${request}`,
              }));
              const stmt = assignStatement({
                accountId: account,
                poolKey,
                requests,
                claim: true,
                fallback: undefined,
                eligibleFrom: now,
                now,
                slot: c.slot,
              });
              return db
                .transaction()
                .execute(async (tx) => {
                  const rows = (await stmt.execute(tx)).rows;
                  if (c.rollBack) throw Object.assign(new Error('rolled back on purpose'), { rows });
                  return rows;
                })
                .catch((err: Error & { rows?: unknown[] }) => {
                  if (!err.rows) throw err;
                  return err.rows as Awaited<ReturnType<typeof stmt.execute>>['rows'];
                });
            }),
          );
          // Each claim got what it asked while codes remained, in expiration order.
          answers.forEach((rows, i) => {
            expect(rows.length).toBe(expected[i]);
            const expiries = rows.map((r) => (r.expires_at === null ? Infinity : new Date(r.expires_at).getTime()));
            expect(expiries).toEqual([...expiries].sort((a, b) => a - b));
          });
          const check = await sql<{
            codes: number;
            unassigned: number;
            assigned_codes: number;
            assignments: number;
            distinct_codes: number;
            counted_codes: number;
            counted_unassigned: number;
            daily: number;
            orphans: number;
          }>`
            select
              (select count(*) from codes where pool_key = ${poolKey})::int as codes,
              (select count(*) from codes where pool_key = ${poolKey} and assigned_at is null)::int as unassigned,
              (select count(*) from codes where pool_key = ${poolKey} and assigned_at is not null)::int as assigned_codes,
              (select count(*) from assignments where pool_key = ${poolKey})::int as assignments,
              (select count(distinct code_id) from assignments where pool_key = ${poolKey})::int as distinct_codes,
              (select coalesce(sum(codes), 0) from pool_code_counts where pool_key = ${poolKey})::int as counted_codes,
              (select coalesce(sum(unassigned), 0) from pool_code_counts where pool_key = ${poolKey})::int as counted_unassigned,
              (select coalesce(sum(assigned), 0) from pool_daily_assignments where pool_key = ${poolKey})::int as daily,
              (select count(*) from codes c where c.pool_key = ${poolKey} and c.assigned_at is not null
                 and not exists (select from assignments a where a.code_id = c.id))::int as orphans`.execute(db);
          const c = check.rows[0]!;
          expect(c.distinct_codes).toBe(c.assignments); // no code twice
          expect(c.assigned_codes).toBe(c.assignments);
          expect(c.orphans).toBe(0);
          expect(c.unassigned).toBe(remaining);
          expect(c.counted_codes).toBe(c.codes);
          expect(c.counted_unassigned).toBe(c.unassigned);
          expect(c.daily).toBe(c.assignments);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../schema.ts';
import type { CodeKind, RedemptionSource } from './model.ts';

/**
 * The report sources' lines, staged for {@link recordReportedStatement}: a file's COPY target (one
 * per import, private to its session, gone at commit) or the same columns from `unnest` (events).
 * `id` is the redemption id the line gets if it is recorded (drawn by the caller, in line order).
 */
export async function createReportedLines(db: Kysely<DB>): Promise<void> {
  await sql`create temp table reported_lines (line integer, id text, code text, order_id text, redeemed_at timestamptz,
              amount numeric(14, 2), currency text, email text) on commit drop`.execute(db);
}

export const COPY_INTO_REPORTED_LINES = 'copy reported_lines (line, id, code, order_id, redeemed_at, amount, currency, email) from stdin';

/** For this transaction only: enough sort memory for a chunk of 50,000 lines (no sort spills to disk). */
export const setImportWorkMem = (db: Kysely<DB>) => sql`set local work_mem = '64MB'`.execute(db);

export const truncateReportedLines = (db: Kysely<DB>) => sql`truncate reported_lines`.execute(db);

/** The staged table as the statement's source. */
export const stagedLines = sql`select line, id, code, order_id, redeemed_at, amount, currency, email from reported_lines`;

export interface ReportedLine {
  line: number;
  id: string;
  code: string;
  orderId: string;
  redeemedAt: Date | null;
  amount: string | null;
  currency: string | null;
  email: string | null;
}

/** A few lines (an event's codes, a batch's) as the statement's source: one array per column. */
export function arrayLines(lines: readonly ReportedLine[]) {
  const col = <T>(f: (l: ReportedLine) => T) => lines.map(f);
  return sql`select * from unnest(${col((l) => l.line)}::integer[], ${col((l) => l.id)}::text[], ${col((l) => l.code)}::text[],
      ${col((l) => l.orderId)}::text[], ${col((l) => l.redeemedAt?.toISOString() ?? null)}::timestamptz[], ${col((l) => l.amount)}::numeric[],
      ${col((l) => l.currency)}::text[], ${col((l) => l.email)}::text[])
    as l (line, id, code, order_id, redeemed_at, amount, currency, email)`;
}

export type ReportedOutcome = 'recorded' | 'duplicate' | 'code_not_found' | 'ambiguous_code' | 'already_redeemed';

export interface ReportedRow {
  line: number;
  code: string;
  outcome: ReportedOutcome;
  /** recorded: the new redemption; duplicate: the live one this order already had. */
  redemption_id: string | null;
  pool_id: string | null;
  kind: CodeKind | null;
}

export interface ReportedCounts {
  recorded: number;
  duplicate: number;
  problems: number;
}

/**
 * THE report-source statement (file import, events): records the redemptions of many lines at
 * once, set-wise — no statement per line — with the lenient rules of SPEC §3.1: every known code
 * that no other order redeemed is recorded, expired, unassigned or in an inactive pool alike.
 *
 * Per line, in one statement: the candidates (the code text among the scope's pools: unique codes
 * by the codes primary key (pool_key, code), static rows, default codes), each with its assignee
 * (unique) or the line's contact's own assignment of that shared code; the choice of
 * `model.choose` (one candidate; else the one assigned to the line's contact by email; else
 * `ambiguous_code`, never guessed); the insert; and each line's outcome.
 *
 * What makes it exactly-once: the same two partial unique indexes as the checkout statement
 * (redeem.ts), taken by the insert with `on conflict do nothing`: a unique code keeps one live
 * redemption (redemptions_code_live_key), an order one per (merchant, code)
 * (redemptions_order_key, the idempotency key: a line repeated, in the file or from an earlier
 * import, is a `duplicate`, not an error). Rows are inserted in (code, line) order: within a code
 * the first line wins (later lines of other orders are `already_redeemed`), and two imports that
 * meet on the same codes take those index entries in the same order (no lock-order cycle). A
 * concurrent checkout of the same code waits for this transaction or makes this line skip.
 * Locks: only those index entries; the reads (pools, codes, assignments, contacts) lock nothing.
 *
 * Outcome of a line the insert skipped: `duplicate` when this order holds the code (before this
 * statement, or from an earlier line of it), else `already_redeemed` (another order's, or a
 * concurrent transaction's that committed meanwhile).
 * `problemsOnly` answers the lines not recorded (an import keeps the first 100) and the counts.
 */
export function recordReportedStatement(p: {
  accountId: string;
  /** The pools considered: one merchant's (a file), or the account's, limited to some merchants (events). */
  merchantIds: readonly string[] | null;
  lines: RawBuilder<unknown>;
  source: RedemptionSource;
  now: Date;
  problemsOnly: boolean;
}) {
  const scope = p.merchantIds === null ? sql`` : sql`and merchant_id = any(${[...p.merchantIds]}::text[])`;
  return sql<ReportedRow & { recorded_count: number; duplicate_count: number }>`
    with lines as materialized (${p.lines}),
    scope_pools as materialized (
      select key, id, merchant_id, default_code from pools where account_id = ${p.accountId} ${scope}
    ),
    line_contacts as materialized (
      select l.line, ct.id as contact_id from lines l
      join contacts ct on ct.account_id = ${p.accountId} and lower(ct.email) = lower(l.email)
      where l.email is not null
    ),
    shared as (
      select l.line, p.key as pool_key, p.id as pool_id, p.merchant_id, l.code,
             case when exists (select from static_codes s where s.pool_key = p.key and s.code = l.code) then 'static' else 'default' end as kind
      from lines l join scope_pools p
        on p.default_code = l.code or exists (select from static_codes s where s.pool_key = p.key and s.code = l.code)
    ),
    candidates as (
      select l.line, p.key as pool_key, p.id as pool_id, p.merchant_id, 'unique' as kind, c.id as code_id, a.contact_id as assigned_to
      from lines l
      join scope_pools p on true
      join codes c on c.pool_key = p.key and c.code = l.code
      left join assignments a on a.code_id = c.id
      union all
      select s.line, s.pool_key, s.pool_id, s.merchant_id, s.kind, null::bigint, (
               select a.contact_id from assignments a
               where a.account_id = ${p.accountId} and a.contact_id = lc.contact_id and a.pool_key = s.pool_key and a.code = s.code
               limit 1)
      from shared s left join line_contacts lc on lc.line = s.line
    ),
    ranked as (
      select c.*, lc.contact_id as line_contact,
             count(*) over (partition by c.line) as n,
             count(*) filter (where c.assigned_to = lc.contact_id) over (partition by c.line) as mine
      from candidates c left join line_contacts lc on lc.line = c.line
    ),
    chosen as (
      select * from ranked where n = 1 or (mine = 1 and assigned_to = line_contact)
    ),
    inserted as (
      insert into redemptions (account_id, id, merchant_id, pool_key, code, code_id, kind, contact_id, email, order_id,
                               amount, currency, source, redeemed_at, created_at)
      select ${p.accountId}, l.id, ch.merchant_id, ch.pool_key, l.code, ch.code_id, ch.kind,
             case when ch.kind = 'unique' then ch.assigned_to else ch.line_contact end,
             l.email, l.order_id, l.amount, upper(l.currency), ${p.source}, coalesce(l.redeemed_at, ${p.now}), ${p.now}
      from chosen ch join lines l on l.line = ch.line
      order by l.code, l.line
      on conflict do nothing
      returning id, merchant_id, code, order_id
    ),
    known as (
      select distinct line from candidates
    ),
    -- Joins, not correlated scans of the CTEs (those would be quadratic in the chunk's lines).
    outcomes as (
      select l.line, l.code, ch.pool_id, ch.kind, i.id as inserted_id,
             case when ch.line is not null and i.id is null then coalesce(
               (select r.id from redemptions r where r.account_id = ${p.accountId} and r.merchant_id = ch.merchant_id
                  and r.code = l.code and r.order_id = l.order_id and r.rolled_back_at is null limit 1),
               same.id)
             end as held_id,
             k.line is not null as known
      from lines l
      left join chosen ch on ch.line = l.line
      left join inserted i on i.id = l.id
      left join inserted same on i.id is null and same.merchant_id = ch.merchant_id and same.code = l.code and same.order_id = l.order_id
      left join known k on k.line = l.line
    ),
    classified as (
      select line, code, pool_id, kind,
             case when inserted_id is not null then 'recorded'
                  when pool_id is null and known then 'ambiguous_code'
                  when pool_id is null then 'code_not_found'
                  when held_id is not null then 'duplicate'
                  else 'already_redeemed' end as outcome,
             coalesce(inserted_id, held_id) as redemption_id
      from outcomes
    )
    select line, code, outcome, redemption_id, pool_id, kind,
           (select count(*) from classified where outcome = 'recorded')::int as recorded_count,
           (select count(*) from classified where outcome = 'duplicate')::int as duplicate_count
    from classified
    ${p.problemsOnly ? sql`where outcome not in ('recorded', 'duplicate')` : sql``}
    ${p.problemsOnly ? sql`union all select null, null, null, null, null, null,
           (select count(*) from classified where outcome = 'recorded')::int, (select count(*) from classified where outcome = 'duplicate')::int` : sql``}
    order by line nulls last`;
}

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../schema.ts';

/*
 * Redemption's hot statements: resolving a code (candidatesStatement, a read) and recording a
 * redemption exactly once (redeemStatement). No row locks, no SERIALIZABLE: two partial unique
 * indexes over live rows (rolled_back_at is null) are the rule — redemptions_code_live_key
 * (code_id), one live redemption per unique code, and redemptions_order_key (account, merchant,
 * code, order), the idempotency key. Of N racing orders the first insert takes the entry; the
 * others wait for its transaction and then insert nothing (test/redemptions/concurrency.test.ts:
 * 8 processes, 1,000 codes, PostgreSQL).
 */
import type { CodeKind, RedemptionSource } from './model.ts';
import type { ImportedLine } from './import-lines.ts';

/** A redemption row as the statements return it. */
export interface RedemptionRow {
  id: string;
  account_id: string;
  merchant_id: string;
  pool_key: number;
  code: string;
  code_id: number | null;
  kind: CodeKind;
  contact_id: string | null;
  email: string | null;
  order_id: string;
  amount: string | null;
  currency: string | null;
  source: RedemptionSource;
  redeemed_at: Date;
  created_at: Date;
  rolled_back_at: Date | null;
}

export interface CandidateRow {
  pool_key: number;
  pool_id: string;
  active: boolean;
  kind: CodeKind;
  code_id: number | null;
  assigned_to: string | null;
  expires_at: Date | null;
  redeemed_by: string | null;
  /** The live redemption of this (merchant, code, order), if one is recorded: the answer to a retry. */
  prior_id: string | null;
  /** The contact of the email given, if there is one. */
  contact_id: string | null;
}

/**
 * Every place a code text is known among a merchant's pools, in ONE read: unique codes (by the codes
 * primary key (pool_key, code)), static rows and default codes, each with what the rules need —
 * the assignee (unique) or the given contact's own assignment of a shared code, the expiration that
 * applies, the order holding a live redemption of a unique code, and this order's live redemption.
 * Locks nothing: the decision it feeds is re-checked by {@link redeemStatement}.
 */
export function candidatesStatement(p: {
  accountId: string;
  merchantId: string;
  code: string;
  email: string | null;
  orderId: string | null;
}) {
  const prior = sql`(select r.id from redemptions r
      where r.account_id = ${p.accountId} and r.merchant_id = ${p.merchantId} and r.code = ${p.code}
        and r.order_id = ${p.orderId}::text and r.rolled_back_at is null limit 1)`;
  const own = (pool: string) => sql`left join lateral (
      select a.contact_id, a.expires_at from assignments a
      where a.account_id = ${p.accountId} and a.contact_id = (select id from contact)
        and a.pool_key = ${sql.ref(pool)}.key and a.code = ${p.code}
      order by a.created_at desc limit 1
    ) own on true`;
  return sql<CandidateRow>`
    with contact as (
      select id from contacts where account_id = ${p.accountId} and lower(email) = lower(${p.email}::text)
    ),
    merchant_pools as materialized (
      select key, id, active, default_code, default_code_expires_at from pools
      where account_id = ${p.accountId} and merchant_id = ${p.merchantId}
    )
    select p.key as pool_key, p.id as pool_id, p.active, 'unique' as kind, c.id as code_id,
           a.contact_id as assigned_to, coalesce(a.expires_at, nullif(c.expires_at, 'infinity')) as expires_at,
           (select r.order_id from redemptions r where r.code_id = c.id and r.rolled_back_at is null) as redeemed_by,
           ${prior} as prior_id, (select id from contact) as contact_id
    from merchant_pools p
    join codes c on c.pool_key = p.key and c.code = ${p.code}
    left join assignments a on a.code_id = c.id
    union all
    select p.key, p.id, p.active, 'static', null, own.contact_id, coalesce(own.expires_at, s.expires_at), null, ${prior}, (select id from contact)
    from merchant_pools p
    join lateral (
      select case when bool_or(expires_at is null) then null else max(expires_at) end as expires_at
      from static_codes where pool_key = p.key and code = ${p.code} having count(*) > 0
    ) s on true
    ${own('p')}
    union all
    select p.key, p.id, p.active, 'default', null, own.contact_id, coalesce(own.expires_at, p.default_code_expires_at), null, ${prior}, (select id from contact)
    from merchant_pools p
    ${own('p')}
    where p.default_code = ${p.code}
      and not exists (select from static_codes where pool_key = p.key and code = ${p.code})`;
}

export interface RedeemInput {
  accountId: string;
  id: string;
  merchantId: string;
  poolKey: number;
  code: string;
  codeId: number | null;
  kind: CodeKind;
  contactId: string | null;
  email: string | null;
  orderId: string;
  amount: string | null;
  currency: string | null;
  source: RedemptionSource;
  redeemedAt: Date;
  now: Date;
  /**
   * Checkout (strict): the rules that other writers can change are re-checked in the statement
   * itself — the pool is active, and a unique code is assigned (to `assignee` when an email was
   * given) and not expired. Report sources pass null: the order already happened.
   */
  strict: { assignee: string | null } | null;
}

/**
 * THE redeem statement: records one redemption, or nothing, in ONE statement.
 *
 * What makes it exactly-once: two partial unique indexes over live (not rolled back) rows, taken by
 * the insert itself, with `on conflict do nothing` (no target: either index):
 * - redemptions_code_live_key (code_id): of N orders racing for one unique code, the first insert
 *   takes the index entry; the others wait for its transaction and, once it commits, do nothing.
 *   If it rolls back, the next one wins. So exactly one live redemption per unique code, in any
 *   number of processes, without SERIALIZABLE.
 * - redemptions_order_key (account, merchant, code, order): the idempotency key. The same order
 *   again does nothing; the caller reads the first redemption and answers it (200). For a shared
 *   code it is the only key: each distinct order is counted once.
 * What it locks: no row lock at all, only those index entries (one row, so no lock-order cycle
 * between two redeemers); the guard's reads (pools, assignments) take no locks.
 * Returns the new row, or no row: then the caller reads the live redemption that won
 * ({@link liveRedemptionsStatement}) or, if there is none, the guard failed (the state changed
 * since the candidates were read) and it decides again from fresh candidates.
 */
export function redeemStatement(p: RedeemInput) {
  const guard = p.strict
    ? sql`where exists (select from pools where key = ${p.poolKey} and active)${
        p.codeId !== null
          ? sql` and exists (select from assignments a where a.code_id = ${p.codeId}
              and (${p.strict.assignee}::text is null or a.contact_id = ${p.strict.assignee}::text)
              and (a.expires_at is null or a.expires_at > ${p.now}))`
          : sql``
      }`
    : sql``;
  return sql<RedemptionRow>`
    insert into redemptions (account_id, id, merchant_id, pool_key, code, code_id, kind, contact_id, email, order_id,
                             amount, currency, source, redeemed_at, created_at)
    select ${p.accountId}, ${p.id}, ${p.merchantId}, ${p.poolKey}, ${p.code}, ${p.codeId}::bigint, ${p.kind}, ${p.contactId}::text,
           ${p.email}::text, ${p.orderId}, ${p.amount}::numeric, ${p.currency}::text, ${p.source}, ${p.redeemedAt}, ${p.now}
    ${guard}
    on conflict do nothing
    returning *`;
}

/** The live redemptions that stopped an insert: the same unique code, or the same (merchant, code, order). */
export function liveRedemptionsStatement(p: {
  accountId: string;
  merchantId: string;
  code: string;
  codeId: number | null;
  orderId: string;
}) {
  return sql<RedemptionRow>`
    select * from redemptions
    where rolled_back_at is null and (
      (${p.codeId}::bigint is not null and code_id = ${p.codeId}::bigint)
      or (account_id = ${p.accountId} and merchant_id = ${p.merchantId} and code = ${p.code} and order_id = ${p.orderId})
    )`;
}

// ---------------------------------------------------------------------------------------------
// Report sources (file import, events): lines staged, then recorded set-wise

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

/** A line to record: a parsed line (import-lines.ts) with the id drawn for its redemption. */
export interface ReportedLine extends ImportedLine {
  id: string;
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
 * once, set-wise — no statement per line — with the lenient rules of report sources: every known code
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
 * `problemsOnly` answers the lines not recorded (an import keeps the first 100) and the counts
 * (`with_contact_count`: new redemptions with a contact — only those can end a run).
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
  return sql<ReportedRow & { recorded_count: number; duplicate_count: number; with_contact_count: number }>`
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
      returning id, merchant_id, code, order_id, contact_id
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
           (select count(*) from classified where outcome = 'duplicate')::int as duplicate_count,
           (select count(*) from inserted where contact_id is not null)::int as with_contact_count
    from classified
    ${p.problemsOnly ? sql`where outcome not in ('recorded', 'duplicate')` : sql``}
    ${
      p.problemsOnly
        ? sql`union all select null, null, null, null, null, null,
           (select count(*) from classified where outcome = 'recorded')::int, (select count(*) from classified where outcome = 'duplicate')::int,
           (select count(*) from inserted where contact_id is not null)::int`
        : sql``
    }
    order by line nulls last`;
}

/** A redemption with its pool's id, as the list and the rollbacks answer it. */
export type RedemptionWithPool = RedemptionRow & { pool_id: string };

/**
 * Every live redemption of one order rolled back at once (a cancelled order); answers them.
 * Locks those redemption rows. Idempotent: a repeat finds none live (`rolled_back_at is null`).
 */
export async function rollBackOrder(
  db: Kysely<DB>,
  accountId: string,
  merchantId: string,
  orderId: string,
  now: Date,
): Promise<RedemptionWithPool[]> {
  const { rows } = await sql<RedemptionWithPool>`
    update redemptions r set rolled_back_at = ${now}
    from pools p
    where r.account_id = ${accountId} and r.merchant_id = ${merchantId} and r.order_id = ${orderId} and r.rolled_back_at is null
      and p.key = r.pool_key
    returning r.*, p.id as pool_id`.execute(db);
  return rows;
}

import { sql } from 'kysely';

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
export function candidatesStatement(p: { accountId: string; merchantId: string; code: string; email: string | null; orderId: string | null }) {
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
export function liveRedemptionsStatement(p: { accountId: string; merchantId: string; code: string; codeId: number | null; orderId: string }) {
  return sql<RedemptionRow>`
    select * from redemptions
    where rolled_back_at is null and (
      (${p.codeId}::bigint is not null and code_id = ${p.codeId}::bigint)
      or (account_id = ${p.accountId} and merchant_id = ${p.merchantId} and code = ${p.code} and order_id = ${p.orderId})
    )`;
}

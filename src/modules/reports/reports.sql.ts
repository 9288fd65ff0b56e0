import { sql, type RawBuilder } from 'kysely';

/**
 * The statements of the reports: the daily history the periodic job records, the pool
 * report's figures, and the redemptions of the codes each conversation step handed out. All but
 * {@link recordDayStatement} only read.
 *
 * Shared rules, so that every figure agrees with the others:
 * - an assignment counts while it is not released (a bounced mail gave its code back);
 * - a redemption counts while it is live (not rolled back);
 * - a redemption belongs to an assignment: a unique code's by `code_id`; a shared code's (static
 *   row, default code) to the contact's latest assignment of that code in that pool made at or
 *   before the redemption (one order is never counted for two assignments).
 */

/** The instants of one local day: [start, end), computed by the caller in the account's zone. */
export interface DayBounds {
  day: string;
  start: Date;
  end: Date;
}

/** The assignments and live redemptions of pool `p` (an alias with `key`) in [start, end). */
const dayCounts = (start: Date, end: Date) => sql`
  (select count(*) from assignments a
    where a.pool_key = p.key and a.created_at >= ${start} and a.created_at < ${end} and a.released_at is null) as assigned,
  (select count(*) from redemptions r
    where r.pool_key = p.key and r.redeemed_at >= ${start} and r.redeemed_at < ${end} and r.rolled_back_at is null) as redeemed`;

/**
 * Codes of pool `p` available at instant `at` (in the past or now), read at any later time:
 * - a static pool: its rows whose distribution window contains `at`;
 * - a unique pool: the unassigned codes of the counters whose expiration is at least the cutoff
 *   after `at`; plus the codes assigned since `at` (unassigned then: the counters no longer hold
 *   them) that were eligible then; minus the codes assigned before `at` and given back since (the
 *   counters hold them again; a code given back and assigned again is added and taken away once).
 * Codes uploaded after `at` and before this reading count as available at `at`: the job reads
 * minutes after a day ended, so that is the only reconstruction in a recorded row.
 */
const availableAt = (at: Date) => sql`
  case when p.type = 'static' then
    (select count(*) from static_codes s where s.pool_key = p.key and s.begin_at <= ${at} and s.end_at >= ${at})
  else
    coalesce((select sum(c.unassigned) from pool_code_counts c
      where c.pool_key = p.key and c.expires_at >= ${at}::timestamptz + p.expiration_cutoff_days * interval '1 day'), 0)
    + (select count(*) from assignments a
      where a.pool_key = p.key and a.created_at >= ${at} and a.source = 'unique' and a.released_at is null
        and coalesce(a.expires_at, 'infinity') >= ${at}::timestamptz + p.expiration_cutoff_days * interval '1 day')
    - (select count(*) from assignments a
      where a.pool_key = p.key and a.created_at < ${at} and a.source = 'unique' and a.released_at >= ${at}
        and coalesce(a.expires_at, 'infinity') >= ${at}::timestamptz + p.expiration_cutoff_days * interval '1 day')
  end`;

/**
 * THE history write: one row per pool of the account for one ended local day: that day's
 * assignments and redemptions and the codes available at its end.
 *
 * Exactly once: the primary key (pool_key, day) with `on conflict do nothing`. Any number of
 * processes may run the job at once, or run it again after a crash: the first insert of a row
 * wins, the others (and every later run) change nothing; a row is never updated.
 * What it locks: only the index entries of the rows it inserts, taken in pool key order (the
 * `order by`), so two racing writers wait for each other but never deadlock.
 * Relies on: the day has ended (`end` ≤ now): its assignments and redemptions no longer change,
 * except through later rollbacks, bounces and back-dated imports, which a recorded row does not follow.
 * Pools created after the day ended get no row for it.
 */
export function recordDayStatement(p: { accountId: string; bounds: DayBounds; now: Date }) {
  const { day, start, end } = p.bounds;
  return sql<{ pool_key: number }>`
    insert into pool_daily_history (account_id, pool_key, day, assigned, redeemed, available, recorded_at)
    select p.account_id, p.key, ${day}::date, f.assigned, f.redeemed, f.available, ${p.now}
    from pools p
    cross join lateral (select ${dayCounts(start, end)}, ${availableAt(end)} as available) f
    where p.account_id = ${p.accountId} and p.created_at < ${end}
    order by p.key
    on conflict (pool_key, day) do nothing
    returning pool_key`;
}

/**
 * Where the job stands, per account that has pools: its zone, the last day recorded for any of its
 * pools, and when its first pool was created. Reads only.
 */
export function historyProgressStatement() {
  return sql<{ account_id: string; time_zone: string; last_day: string | null; first_pool_at: Date }>`
    select a.id as account_id, a.time_zone,
           (select max(h.day)::text from pool_daily_history h where h.account_id = a.id) as last_day,
           (select min(p.created_at) from pools p where p.account_id = a.id) as first_pool_at
    from accounts a
    where exists (select from pools p where p.account_id = a.id)
    order by a.id`;
}

/** A pool's recorded days from `fromDay` on, oldest first. */
export function historyRowsStatement(p: { poolKey: number; fromDay: string }) {
  return sql<{ day: string; assigned: string; redeemed: string; available: string }>`
    select day::text as day, assigned, redeemed, available from pool_daily_history
    where pool_key = ${p.poolKey} and day >= ${p.fromDay}::date
    order by day`;
}

/** Today so far (not recorded yet): the day's assignments and redemptions of one pool. */
export function dayCountsStatement(p: { poolKey: number; start: Date; end: Date }) {
  return sql<{ assigned: string; redeemed: string }>`
    select ${dayCounts(p.start, p.end)} from pools p where p.key = ${p.poolKey}`;
}

/** Each live redemption of the pool with the assignment it belongs to (see the rules above), or none. */
const matchedRedemptions = (poolKey: number): RawBuilder<unknown> => sql`
  select r.id, r.redeemed_at, coalesce(au.id, ash.id) as assignment_id, coalesce(au.created_at, ash.created_at) as assigned_at
  from redemptions r
  left join assignments au on r.code_id is not null and au.code_id = r.code_id
  left join lateral (
    select a.id, a.created_at from assignments a
    where r.code_id is null and a.account_id = r.account_id and a.contact_id = r.contact_id
      and a.pool_key = r.pool_key and a.code = r.code and a.released_at is null and a.created_at <= r.redeemed_at
    order by a.created_at desc limit 1
  ) ash on true
  where r.pool_key = ${poolKey} and r.rolled_back_at is null`;

/**
 * A pool's report figures in one read: assignments (not released), live redemptions, the
 * assignments redeemed at least once (the rate's numerator: a shared code's walk-in orders, with
 * no assignment, raise `redeemed` but not the rate), and the median hours from an assignment to
 * its redemption (percentile_cont: the mean of the two middle values for an even count; a
 * redemption dated before its assignment, from a back-dated import, is left out).
 */
export function poolFiguresStatement(p: { poolKey: number }) {
  return sql<{ assigned: string; redeemed: string; redeemed_assignments: string; median_hours: number | null }>`
    with matched as materialized (${matchedRedemptions(p.poolKey)})
    select (select count(*) from assignments where pool_key = ${p.poolKey} and released_at is null) as assigned,
           (select count(*) from matched) as redeemed,
           (select count(distinct assignment_id) from matched) as redeemed_assignments,
           (select percentile_cont(0.5) within group (order by extract(epoch from (redeemed_at - assigned_at)) / 3600)
              from matched where assignment_id is not null and redeemed_at >= assigned_at) as median_hours`;
}

/** Revenue of the pool's live redemptions per currency, as exact decimals (text); redemptions without amount or currency add none. */
export function revenueStatement(p: { poolKey: number }) {
  return sql<{ currency: string; amount: string }>`
    select currency, sum(amount)::text as amount from redemptions
    where pool_key = ${p.poolKey} and rolled_back_at is null and amount is not null and currency is not null
    group by currency order by currency`;
}

/**
 * The forecast's inputs for a unique pool at `now`: the available codes grouped by the day (UTC) on
 * which they leave availability (expiration minus the cutoff; 'infinity' for never), soonest first,
 * at most 3,660 groups (ten years of days; the rest are summed into the last one).
 */
export function leavingStatement(p: { poolKey: number; now: Date; cutoffDays: number }) {
  return sql<{ leaves_on: string; codes: string }>`
    with b as (
      select case when expires_at = 'infinity' then 'infinity'
                  else to_char((expires_at - ${p.cutoffDays} * interval '1 day') at time zone 'UTC', 'YYYY-MM-DD') end as leaves_on,
             sum(unassigned) as codes
      from pool_code_counts
      where pool_key = ${p.poolKey} and expires_at >= ${p.now}::timestamptz + ${p.cutoffDays} * interval '1 day'
      group by 1 having sum(unassigned) > 0
    )
    select leaves_on, codes::text from b order by leaves_on = 'infinity', leaves_on limit 3660`;
}

/** Unique codes handed out in [since, now): the forecast's rate. */
export function assignedSinceStatement(p: { poolKey: number; since: Date }) {
  return sql<{ n: string }>`
    select count(*) as n from assignments
    where pool_key = ${p.poolKey} and created_at >= ${p.since} and source = 'unique' and released_at is null`;
}

/**
 * Per conversation, step and currency: the live redemptions of the codes that step handed out.
 * The link from a step to its assignments is the assignment's idempotency key, which the engine
 * makes `run:<enrollment id>:<step id>` (the step run's primary key), found through the contact's
 * assignments (index assignments_contact_idx). `amount` is the exact sum (text), null when no
 * redemption of the group carried one. Reads only.
 */
export function stepRedemptionsStatement(p: { conversationIds: string[] }) {
  return sql<{ conversation_id: string; step_id: string; currency: string | null; redeemed: string; amount: string | null }>`
    with handed as materialized (
      select sr.conversation_id, sr.step_id, a.account_id, a.pool_key, a.contact_id, a.code, a.code_id, a.source, a.created_at
      from step_runs sr
      join enrollments e on e.account_id = sr.account_id and e.id = sr.enrollment_id
      join assignments a on a.account_id = sr.account_id and a.contact_id = e.contact_id
        and a.idempotency_key = 'run:' || sr.enrollment_id || ':' || sr.step_id
      where sr.conversation_id = any(${p.conversationIds}::text[]) and sr.outcome in ('assigned', 'default_code')
    ),
    credited as (
      select h.conversation_id, h.step_id, r.currency, r.amount
      from handed h
      join redemptions r on h.code_id is not null and r.code_id = h.code_id and r.rolled_back_at is null
      union all
      select h.conversation_id, h.step_id, r.currency, r.amount
      from handed h
      join redemptions r on h.source <> 'unique' and r.pool_key = h.pool_key and r.code = h.code
        and r.contact_id = h.contact_id and r.rolled_back_at is null and r.redeemed_at >= h.created_at
      where not exists (
        select from assignments later
        where later.account_id = h.account_id and later.contact_id = h.contact_id and later.pool_key = h.pool_key
          and later.code = h.code and later.released_at is null
          and later.created_at > h.created_at and later.created_at <= r.redeemed_at
      )
    )
    select conversation_id, step_id, currency, count(*) as redeemed, sum(amount)::text as amount
    from credited group by 1, 2, 3`;
}

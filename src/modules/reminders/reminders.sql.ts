import { sql } from 'kysely';

export interface DueReminder {
  account_id: string;
  assignment_id: string;
  contact_id: string;
  pool_id: string;
  code: string;
  expires_at: Date;
  /** Whether this call took it (false: another process did, just before). */
  claimed: boolean;
}

/**
 * Expiry reminders: the next `limit` assignments due a `coupon_expiring` event — unique
 * codes of pools with `expiry_reminder_days`, not released, not redeemed (no live redemption),
 * expiring after now and at most that many days from now, not reminded yet — and the claim of
 * each, in ONE statement.
 *
 * Exactly once across processes: the claim is the insert into expiry_reminders, whose primary key
 * (account, assignment) is the "once per assignment". Two processes that read the same due rows
 * both insert; the second waits on the first's uncommitted index entries and, once it commits,
 * inserts nothing for them (`on conflict do nothing`): `claimed` is false there, and the caller
 * records events for its claimed rows only, in the same transaction (a rollback frees them again).
 * Reads go through assignments_expiry_idx (pool_key, expires_at) per pool. Locks only the new rows.
 */
export function claimDueRemindersStatement(p: { now: Date; limit: number }) {
  return sql<DueReminder>`
    with due as materialized (
      select a.account_id, a.id as assignment_id, a.contact_id, p.id as pool_id, a.code, a.expires_at
      from pools p
      cross join lateral (
        select a.account_id, a.id, a.contact_id, a.code, a.expires_at from assignments a
        where a.pool_key = p.key and a.source = 'unique' and a.released_at is null
          and a.expires_at > ${p.now} and a.expires_at <= ${p.now}::timestamptz + p.expiry_reminder_days * interval '1 day'
          and not exists (select from expiry_reminders r where r.account_id = a.account_id and r.assignment_id = a.id)
          and not exists (select from redemptions x where x.code_id = a.code_id and x.rolled_back_at is null)
        order by a.expires_at
        limit ${p.limit}
      ) a
      where p.expiry_reminder_days is not null and p.type = 'unique'
      limit ${p.limit}
    ),
    claimed as (
      insert into expiry_reminders (account_id, assignment_id, created_at)
      select account_id, assignment_id, ${p.now} from due
      on conflict do nothing
      returning account_id, assignment_id
    )
    select d.*, (c.assignment_id is not null) as claimed
    from due d left join claimed c on c.account_id = d.account_id and c.assignment_id = d.assignment_id`;
}

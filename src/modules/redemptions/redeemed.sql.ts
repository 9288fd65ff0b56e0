import { sql, type RawBuilder } from 'kysely';
import type { RedemptionWithPool } from './redemptions.sql.ts';

/**
 * What a report source (file import, events) just recorded, read back in its transaction for the
 * onRedeemed hook (runs that end on redemption, code.redeemed webhooks): the redemptions whose ids
 * `ids` selects (the ids the source drew for its lines; ids of lines not recorded match nothing).
 * `every` (a webhook subscribes to code.redeemed): all of them; else only those that can end a run —
 * a code a conversation run was handed, i.e. an assignment keyed `run:<enrollment id>:<step id>`
 * (the engine's key, see conductor/exit.sql.ts exitRedeemedRunsStatement): by the unique code
 * (`assignments (code_id)`), or for a shared code by the redemption's contact
 * (`assignments_contact_idx`); a redemption with no contact was handed to nobody. So an import of
 * a million redemptions nobody listens to and no run was handed reads back nothing.
 * Reads only (redemptions by their primary key): locks nothing; the hook's own statements lock.
 */
export function recordedStatement(p: { accountId: string; ids: RawBuilder<unknown>; every: boolean }) {
  return sql<RedemptionWithPool & { by_run: boolean }>`
    select r.*, p.id as pool_id, b.by_run
    from redemptions r
    join pools p on p.key = r.pool_key
    cross join lateral (select case
      when r.contact_id is null then false
      when r.code_id is not null then exists (
        select from assignments a where a.code_id = r.code_id and a.idempotency_key like 'run:%')
      else exists (
        select from assignments a
        where a.account_id = r.account_id and a.contact_id = r.contact_id and a.pool_key = r.pool_key and a.code = r.code
          and a.idempotency_key like 'run:%')
      end as by_run) b
    where r.account_id = ${p.accountId} and r.id in (${p.ids})
      and (${p.every} or b.by_run)
    order by r.id`;
}

/** The ids a file import drew for the chunk it just recorded (its staged lines). */
export const stagedIds = sql`select id from reported_lines`;

/** Ids given by the caller (an event batch's recorded redemptions). */
export const givenIds = (ids: readonly string[]) => sql`select unnest(${[...ids]}::text[])`;

/**
 * Which of these (contact, code) pairs have a live redemption: a split's `{coupon, is: "redeemed"}`.
 * Reads only (no lock): a redemption committing after this read is seen by the next evaluation.
 * Matched on the contact too, so a shared (static, default) code counts only for who redeemed it.
 */
export function redeemedAmongStatement(accountId: string, handed: readonly { contactId: string; code: string }[]) {
  return sql<{ contact_id: string; code: string }>`
    select distinct r.contact_id, r.code
    from redemptions r
    join unnest(${handed.map((h) => h.contactId)}::text[], ${handed.map((h) => h.code)}::text[]) as h(contact_id, code)
      on r.contact_id = h.contact_id and r.code = h.code
    where r.account_id = ${accountId} and r.rolled_back_at is null`;
}

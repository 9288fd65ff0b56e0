import { sql, type RawBuilder } from 'kysely';
import type { RedemptionWithPool } from './redemptions.sql.ts';

/**
 * What a report source (file import, events) just recorded, read back in its transaction for the
 * onRedeemed hook (runs that end on redemption, code.redeemed webhooks): the redemptions whose ids
 * `ids` selects (the ids the source drew for its lines; ids of lines not recorded match nothing).
 * `every` (a webhook subscribes to code.redeemed): all of them; else only those that can end a run —
 * a code a conversation run was handed, i.e. an assignment keyed `run:<enrollment id>:<step id>`
 * (the engine's key, see conductor.sql.ts exitRedeemedRunsStatement): by the unique code
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

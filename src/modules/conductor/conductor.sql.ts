import { sql } from 'kysely';

export interface RedeemedCode {
  accountId: string;
  poolKey: number;
  /** A unique code's id (null for a shared code: static row or default code). */
  codeId: number | null;
  code: string;
  /** The redemption's contact: for a shared code, only this contact's runs were handed "this" code. */
  contactId: string | null;
  now: Date;
}

/**
 * exitOnRedemption (SPEC §3.1): ends the open runs (active, held or failed) that were handed the
 * redeemed code, when their version says `exitOnRedemption`, reason `redeemed`. Runs inside the
 * redemption's transaction.
 *
 * Which runs: the engine's assignments carry the key `run:<enrollment id>:<step id>`, so the code's
 * assignments name their runs — a unique code through `assignments (code_id)` (unique), a shared
 * code through the redemption's contact (`assignments_contact_idx`) and the pool.
 * What it locks: those enrollment rows (`update`), one statement, so no lock-order cycle with
 * another redemption; a conductor batch holding one of them (FOR UPDATE in its claim) makes this
 * wait for it, then the status is re-checked (READ COMMITTED re-evaluates the where clause).
 * Idempotent: an ended run is no longer open, so a repeat changes nothing.
 */
export function exitRedeemedRunsStatement(p: RedeemedCode) {
  const handed =
    p.codeId !== null
      ? sql`a.code_id = ${p.codeId}::bigint`
      : sql`a.account_id = ${p.accountId} and a.contact_id = ${p.contactId}::text and a.pool_key = ${p.poolKey} and a.code = ${p.code}`;
  return sql<{ id: string; conversation_id: string; contact_id: string }>`
    update enrollments e
    set status = 'exited', exit_reason = 'redeemed', ended_at = ${p.now}, updated_at = ${p.now}
    from conversation_versions v
    where e.account_id = ${p.accountId}
      and e.id = any(array(
        select split_part(a.idempotency_key, ':', 2) from assignments a
        where ${handed} and a.idempotency_key like 'run:%'))
      and e.status in ('active', 'held', 'failed')
      and v.account_id = e.account_id and v.conversation_id = e.conversation_id and v.version = e.version
      and coalesce((v.document ->> 'exitOnRedemption')::boolean, false)
    returning e.id, e.conversation_id, e.contact_id`;
}

import { sql } from 'kysely';
import { unnestRows } from '../../platform/db/bulk.ts';

// Exit on redemption, in the redemption's transaction (beside conductor.sql.ts, the batch's statements).

export interface RedeemedCode {
  poolKey: number;
  /** A unique code's id (null for a shared code: static row or default code). */
  codeId: number | null;
  code: string;
  /** The redemption's contact: for a shared code, only this contact's runs were handed "this" code. */
  contactId: string | null;
}

/**
 * exitOnRedemption, set-wise: ends the open runs (active, held or failed) that were handed any of
 * the redeemed codes (all the new redemptions of one checkout, file chunk or event batch), when
 * their version says `exitOnRedemption`, reason `redeemed`. Runs inside the redemptions'
 * transaction; one statement whatever the number of codes.
 *
 * Which runs: the engine's assignments carry the key `run:<enrollment id>:<step id>`, so the codes'
 * assignments name their runs — unique codes through `assignments (code_id)` (unique, `= any` of
 * their ids), shared codes through each redemption's contact (`assignments_contact_idx`) and the
 * pool; a shared code redeemed with no contact was handed to nobody.
 * What it locks: those enrollment rows (`update`), in one statement, so no lock-order cycle within
 * the batch; a conductor batch holding one of them (FOR UPDATE in its claim) makes this wait for
 * it, then the status is re-checked (READ COMMITTED re-evaluates the where clause).
 * Idempotent: an ended run is no longer open, so a repeat changes nothing.
 */
export function exitRedeemedRunsStatement(p: { accountId: string; codes: readonly RedeemedCode[]; now: Date }) {
  const unique = p.codes.flatMap((c) => (c.codeId !== null ? [c.codeId] : []));
  const shared = p.codes.filter((c) => c.codeId === null && c.contactId !== null);
  const sharedRows = unnestRows(
    { contact_id: 'text', pool_key: 'bigint', code: 'text' },
    { contact_id: shared.map((c) => c.contactId), pool_key: shared.map((c) => c.poolKey), code: shared.map((c) => c.code) },
    's',
  );
  return sql<{ id: string; conversation_id: string; contact_id: string }>`
    update enrollments e
    set status = 'exited', exit_reason = 'redeemed', ended_at = ${p.now}, updated_at = ${p.now}
    from conversation_versions v
    where e.account_id = ${p.accountId}
      and e.id = any(array(
        select split_part(a.idempotency_key, ':', 2) from assignments a
        where a.code_id = any(${unique}::bigint[]) and a.idempotency_key like 'run:%'
        union all
        select split_part(a.idempotency_key, ':', 2)
        from ${sharedRows}
        join assignments a on a.account_id = ${p.accountId} and a.contact_id = s.contact_id and a.pool_key = s.pool_key and a.code = s.code
        where a.idempotency_key like 'run:%'))
      and e.status in ('active', 'held', 'failed')
      and v.account_id = e.account_id and v.conversation_id = e.conversation_id and v.version = e.version
      and coalesce((v.document ->> 'exitOnRedemption')::boolean, false)
    returning e.id, e.conversation_id, e.contact_id`;
}

import { sql, type RawBuilder } from 'kysely';
import { assignedEventData } from './assigned-event.ts';
import { claimCtes, recordCtes, type AssignedRow, type Fallback } from './assignments.sql.ts';

/** `jsonb_build_object('k1', v1, …)` from named SQL expressions. */
const jsonbObject = (o: Record<string, RawBuilder<unknown>>) =>
  sql`jsonb_build_object(${sql.join(Object.entries(o).map(([k, v]) => sql`${k}::text, ${v}`))})`;

/*
 * The single HTTP assignment (POST /v1/pools/:id/assignments) as ONE statement after the pool's
 * read: the contact, the claim, the assignment, its counters, its code.assigned webhook rows and
 * the call's audit entry, in one autocommit round trip. Before, a lone assignment took about a
 * dozen round trips (the contact's insert wrapped in BEGIN/audit/COMMIT, a re-read, the claim in
 * its own BEGIN … COMMIT with the webhook insert, then a notice check of four more on a watched
 * pool); `npm run bench -- assign` measures it (README "Performance").
 */

/** The audit entry the statement writes (audit/service.ts claimAuditEntry): its columns, by name. */
export type AuditValues = Record<string, unknown>;

export interface AssignOneRow extends Partial<AssignedRow> {
  /** The contact the request names: null when it names an id that does not exist, or lost a race (ask again). */
  resolved_id: string | null;
  resolved_email: string | null;
  /** Whether it created anything (a contact, an assignment): then it wrote the audit entry. */
  wrote: boolean;
  /** The pool's available codes after this claim, as this statement saw them (null unless asked for). */
  available: number | null;
}

/**
 * Assigns one request, naming its contact by email (created if new) or by id:
 * 1. `found`/`made`/`contact`: the contact by id, or by email (any case); a new email is inserted
 *    `on conflict do nothing` (contacts_email_key). A contact a racing statement inserted after
 *    this one's snapshot is neither found nor made: no contact, nothing else is done, and the
 *    caller asks again (its next snapshot sees it).
 * 2. From `recorded` on: {@link assignStatement}'s shape for one key (assignments.sql.ts: the
 *    recorded key answers unchanged; else the claim, gated by a contact and no recorded key; the
 *    fallback only when nothing was claimed), and its very recording CTEs (`recordCtes`: the
 *    assignment, the counters), the same locks in the same order.
 * 3. `hooked`: code.assigned rows for the account's webhooks that subscribe, shaped as
 *    webhooks.sql.ts enqueueStatement shapes them (to_jsonb of id, type, createdAt, data), the
 *    data named by assignedEventData (assigned-event.ts), as the batch path's events are.
 * 4. `audited`: the call's audit entry, only when the statement created something (a contact or
 *    an assignment): no entry without its change, the change never without its entry.
 * 5. `available`: the pool's available codes from the counters in this statement's snapshot,
 *    less the codes it claimed (asked for on watched pools): the caller runs the notice check only
 *    when this lies near a crossing. Concurrent claims not yet committed are not subtracted, so
 *    the caller allows a margin (service.ts NOTICE_MARGIN).
 * Locks: the new contact row; then as assignStatement (the claimed code, the counter rows of this
 * slot, the day's row). Idempotent by assignments_idempotency_key; a key a racing statement
 * recorded first fails this one whole (unique violation) and the caller asks again.
 * Always answers exactly one row.
 */
export function assignOneStatement(p: {
  accountId: string;
  pool: { key: number; id: string; merchantId: string };
  contact: { id: string } | { email: string; newId: string };
  idempotencyKey: string;
  assignmentId: string;
  claim: boolean;
  fallback: Fallback | undefined;
  eligibleFrom: Date;
  now: Date;
  slot: number;
  webhookEventId: string;
  audit: AuditValues | undefined;
  watch: boolean;
}) {
  const byId = 'id' in p.contact ? p.contact.id : null;
  const email = 'email' in p.contact ? p.contact.email : null;
  const newContactId = 'newId' in p.contact ? p.contact.newId : null;
  // The event as webhooks.sql.ts enqueueStatement writes one (to_jsonb of id, type, createdAt, data), its data from
  // assignedEventData over the inserted row `i`; expiresAt as JavaScript's toISOString() writes it.
  const event = jsonbObject({
    id: sql`${p.webhookEventId}::text`,
    type: sql`'code.assigned'::text`,
    createdAt: sql`${p.now.toISOString()}::text`,
    data: jsonbObject(
      assignedEventData(
        { id: sql`${p.pool.id}::text`, merchantId: sql`${p.pool.merchantId}::text` },
        {
          id: sql`i.id`,
          code: sql`i.code`,
          source: sql`i.source`,
          contactId: sql`i.contact_id`,
          expiresAt: sql`to_char(i.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
        },
      ),
    ),
  });
  return sql<AssignOneRow>`
    with found as (
      select id, email from contacts
      where account_id = ${p.accountId}
        and ${byId === null ? sql`lower(email) = lower(${email}::text)` : sql`id = ${byId}`}
    ),
    made as (
      insert into contacts (account_id, id, email)
      select ${p.accountId}, ${newContactId}::text, ${email}::text
      where ${email}::text is not null and not exists (select from found)
      on conflict (account_id, lower(email)) do nothing
      returning id, email
    ),
    contact as (select id, email from found union all select id, email from made limit 1),
    recorded as (
      select * from assignments
      where pool_key = ${p.pool.key} and idempotency_key = ${p.idempotencyKey}
    ),
    ${claimCtes({
      poolKey: p.pool.key,
      eligibleFrom: p.eligibleFrom,
      count: p.claim ? 1 : 0,
      now: p.now,
      gate: sql`not exists (select from recorded) and exists (select from contact)`,
    })},
    paired as (
      select ${p.assignmentId}::text as id, k.id as contact_id, ${p.idempotencyKey}::text as key,
             c.id as code_id, c.code, nullif(c.expires_at, 'infinity') as expires_at
      from contact k
      left join claimed c on true
      where not exists (select from recorded)
        and (c.id is not null or (${p.fallback?.source ?? null}::text is not null and not exists (select from claimed)))
    ),
    ${recordCtes({ accountId: p.accountId, poolKey: p.pool.key, fallback: p.fallback, now: p.now, slot: p.slot })},
    hooked as (
      insert into webhook_queue (account_id, webhook_id, event_id, type, payload, created_at, next_attempt_at)
      select w.account_id, w.id, ${p.webhookEventId}, 'code.assigned', ${event}, ${p.now}, ${p.now}
      from inserted i
      join webhooks w on w.account_id = ${p.accountId} and 'code.assigned' = any (w.events)
      on conflict do nothing
    ),
    audited as (
      insert into audit_log (account_id, id, at, actor_type, actor_id, actor_name, action, route, resource_type, resource_id, summary)
      select a.account_id, a.id, a.at, a.actor_type, a.actor_id, a.actor_name, a.action, a.route, a.resource_type, a.resource_id, a.summary
      from jsonb_populate_record(null::audit_log, ${p.audit ? JSON.stringify(p.audit) : null}::jsonb) a
      where a.id is not null and (exists (select from inserted) or exists (select from made))
    ),
    answer as (
      select true as created, id, contact_id, idempotency_key, source, code_id, code, expires_at, created_at from inserted
      union all
      select false, id, contact_id, idempotency_key, source, code_id, code, expires_at, created_at from recorded
    )
    select x.*, k.id as resolved_id, k.email as resolved_email,
      (exists (select from inserted) or exists (select from made)) as wrote,
      ${
        p.watch
          ? sql`(select coalesce(sum(unassigned), 0) from pool_code_counts
                 where pool_key = ${p.pool.key} and expires_at >= ${p.eligibleFrom}) - (select count(*) from claimed)`
          : sql`null::bigint`
      } as available
    from (select 1) one
    left join answer x on true
    left join contact k on true`;
}

import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { recordset } from '../../platform/db/bulk.ts';
import type { EventOutcome, EventRecord } from './repo.ts';

/*
 * Event intake's hot statements. Idempotency rests on the unique index (account_id,
 * idempotency_key): a repeated key inserts nothing, and the service answers the first event's
 * outcome. They run in the transaction that also starts and ends the conductor's runs.
 */

type Q = Kysely<DB>;

/**
 * One event as a row of the batch's JSON parameter: what differs per event only (the account and
 * the time recorded are parameters of the statement; a key or an outcome left out is null).
 */
const eventRow = (e: EventRecord, outcome?: EventOutcome) => ({
  id: e.id,
  contactId: e.contactId,
  type: e.type,
  properties: e.properties,
  occurredAt: e.occurredAt.toISOString(),
  ...(e.idempotencyKey === null ? {} : { idempotencyKey: e.idempotencyKey }),
  ...(outcome ? { outcome } : {}),
});

const EVENT_COLUMNS = {
  id: 'text',
  contactId: 'text',
  type: 'text',
  properties: 'jsonb',
  occurredAt: 'timestamptz',
  idempotencyKey: 'text',
  outcome: 'jsonb',
} as const;

/**
 * Records the event (locks nothing but the new row; a racing insert of the same key waits for the
 * first transaction and then inserts nothing). Idempotent by (account_id, idempotency_key):
 * false when the key is already taken (nothing written). With `outcome` (an event without a key,
 * written after the conductor saw it), the event is written once, with what it did.
 */
export async function insertEvent(db: Q, e: EventRecord, outcome?: EventOutcome): Promise<boolean> {
  const result = await sql`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at, outcome)
    values (${e.accountId}, ${e.id}, ${e.contactId}, ${e.type}, ${JSON.stringify(e.properties)}::jsonb, ${e.occurredAt}, ${e.idempotencyKey}, ${e.createdAt},
            ${JSON.stringify(outcome ?? NO_OUTCOME)}::jsonb)
    on conflict (account_id, idempotency_key) do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

/** What the column's default says: the event started and ended no run (yet). */
const NO_OUTCOME: EventOutcome = { enrolled: [], exited: [] };

/**
 * Records many events of one account, recorded at one time `createdAt`, in one statement (one
 * JSON parameter; idempotent per key as above); answers the ids written (a key taken meanwhile:
 * skipped). `outcomes` (parallel to `events`): each event's outcome, written with it.
 */
export async function insertEvents(
  db: Q,
  accountId: string,
  createdAt: Date,
  events: EventRecord[],
  outcomes?: EventOutcome[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map((e, i) => eventRow(e, outcomes?.[i]));
  const result = await sql<{ id: string }>`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at, outcome)
    select ${accountId}, x.id, x."contactId", x.type, x.properties, x."occurredAt", x."idempotencyKey", ${createdAt}::timestamptz,
           coalesce(x.outcome, ${JSON.stringify(NO_OUTCOME)}::jsonb)
    from ${recordset(rows, EVENT_COLUMNS, 'x')}
    on conflict (account_id, idempotency_key) do nothing
    returning id`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

export async function saveOutcomes(db: Q, accountId: string, outcomes: { id: string; outcome: EventOutcome }[]): Promise<void> {
  if (outcomes.length === 0) return;
  await sql`
    update events e set outcome = x.outcome
    from ${recordset(outcomes, { id: 'text', outcome: 'jsonb' }, 'x')}
    where e.account_id = ${accountId} and e.id = x.id`.execute(db);
}

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

const EVENT_COLUMNS = {
  accountId: 'text',
  id: 'text',
  contactId: 'text',
  type: 'text',
  properties: 'jsonb',
  occurredAt: 'timestamptz',
  idempotencyKey: 'text',
  createdAt: 'timestamptz',
} as const;

/**
 * Records the event (locks nothing but the new row; a racing insert of the same key waits for the
 * first transaction and then inserts nothing). Idempotent by (account_id, idempotency_key):
 * false when the key is already taken (nothing written).
 */
export async function insertEvent(db: Q, e: EventRecord): Promise<boolean> {
  const result = await sql`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at)
    values (${e.accountId}, ${e.id}, ${e.contactId}, ${e.type}, ${JSON.stringify(e.properties)}::jsonb, ${e.occurredAt}, ${e.idempotencyKey}, ${e.createdAt})
    on conflict (account_id, idempotency_key) do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

/** Records many events in one statement (one JSON parameter; idempotent per key as above); answers the ids written (a key taken meanwhile: skipped). */
export async function insertEvents(db: Q, events: EventRecord[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString(), createdAt: e.createdAt.toISOString() }));
  const result = await sql<{ id: string }>`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at)
    select x."accountId", x.id, x."contactId", x.type, x.properties, x."occurredAt", x."idempotencyKey", x."createdAt"
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

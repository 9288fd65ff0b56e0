import { sql, type Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { EventRedemptions } from '../redemptions/model.ts';

type Q = Kysely<DB>;

export interface EventOutcome {
  enrolled: string[];
  exited: string[];
  /** What the event's coupon codes did (only when it names some). */
  redemptions?: EventRedemptions;
}

export interface EventRecord {
  accountId: string;
  id: string;
  contactId: string;
  type: string;
  properties: Record<string, unknown>;
  occurredAt: Date;
  idempotencyKey: string | null;
  createdAt: Date;
}

/** The event recorded under this key, if any. */
export async function findByKey(db: Q, accountId: string, key: string): Promise<{ contactId: string; outcome: EventOutcome } | undefined> {
  const row = await db
    .selectFrom('events')
    .select(['contact_id', 'outcome'])
    .where('account_id', '=', accountId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row && { contactId: row.contact_id, outcome: row.outcome as EventOutcome };
}

/** Records the event; false when its idempotency key is already taken (nothing written). */
export async function insertEvent(db: Q, e: EventRecord): Promise<boolean> {
  const result = await sql`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at)
    values (${e.accountId}, ${e.id}, ${e.contactId}, ${e.type}, ${JSON.stringify(e.properties)}::jsonb, ${e.occurredAt}, ${e.idempotencyKey}, ${e.createdAt})
    on conflict (account_id, idempotency_key) do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

export async function saveOutcome(db: Q, accountId: string, id: string, outcome: EventOutcome): Promise<void> {
  await db.updateTable('events').set({ outcome: JSON.stringify(outcome) }).where('account_id', '=', accountId).where('id', '=', id).execute();
}

/** How many events carry this key (tests; at most one by construction). */
export async function countByKey(db: Q, accountId: string, key: string): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('idempotency_key', '=', key)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Events already recorded under these keys: key → contact and outcome. */
export async function findByKeys(db: Q, accountId: string, keys: string[]): Promise<Map<string, { contactId: string; outcome: EventOutcome }>> {
  const found = new Map<string, { contactId: string; outcome: EventOutcome }>();
  if (keys.length === 0) return found;
  const rows = await db
    .selectFrom('events')
    .select(['idempotency_key', 'contact_id', 'outcome'])
    .where('account_id', '=', accountId)
    .where('idempotency_key', 'in', keys)
    .execute();
  for (const r of rows) found.set(r.idempotency_key!, { contactId: r.contact_id, outcome: r.outcome as EventOutcome });
  return found;
}

/** Records many events in one statement; answers the ids written (a key taken meanwhile: skipped). */
export async function insertEvents(db: Q, events: EventRecord[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString(), createdAt: e.createdAt.toISOString() }));
  const result = await sql<{ id: string }>`
    insert into events (account_id, id, contact_id, type, properties, occurred_at, idempotency_key, created_at)
    select x."accountId", x.id, x."contactId", x.type, x.properties, x."occurredAt", x."idempotencyKey", x."createdAt"
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as x("accountId" text, id text, "contactId" text, type text, properties jsonb, "occurredAt" timestamptz, "idempotencyKey" text, "createdAt" timestamptz)
    on conflict (account_id, idempotency_key) do nothing
    returning id`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

export async function saveOutcomes(db: Q, accountId: string, outcomes: { id: string; outcome: EventOutcome }[]): Promise<void> {
  if (outcomes.length === 0) return;
  await sql`
    update events e set outcome = x.outcome
    from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) as x(id text, outcome jsonb)
    where e.account_id = ${accountId} and e.id = x.id`.execute(db);
}

import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { EventRedemptions } from '../redemptions/model.ts';

type Q = Kysely<DB>;

export { insertEvent, insertEvents, saveOutcomes } from './events.sql.ts';

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
  return row && { contactId: row.contact_id, outcome: row.outcome };
}

export async function saveOutcome(db: Q, accountId: string, id: string, outcome: EventOutcome): Promise<void> {
  await db
    .updateTable('events')
    .set({ outcome: JSON.stringify(outcome) })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

/** Events already recorded under these keys: key → contact and outcome. */
export async function findByKeys(
  db: Q,
  accountId: string,
  keys: string[],
): Promise<Map<string, { contactId: string; outcome: EventOutcome }>> {
  const found = new Map<string, { contactId: string; outcome: EventOutcome }>();
  if (keys.length === 0) return found;
  const rows = await db
    .selectFrom('events')
    .select(['idempotency_key', 'contact_id', 'outcome'])
    .where('account_id', '=', accountId)
    .where('idempotency_key', 'in', keys)
    .execute();
  for (const r of rows) found.set(r.idempotency_key!, { contactId: r.contact_id, outcome: r.outcome });
  return found;
}

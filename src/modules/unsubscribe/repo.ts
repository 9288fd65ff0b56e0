import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';

type Q = Kysely<DB>;

/** By id alone (unique across accounts): the link names the contact, the signature its account. */
export async function findContact(db: Q, contactId: string) {
  return db.selectFrom('contacts').select(['account_id', 'id', 'email', 'status']).where('id', '=', contactId).executeTakeFirst();
}

export async function setUnsubscribed(db: Q, accountId: string, contactId: string, now: Date): Promise<boolean> {
  const r = await db
    .updateTable('contacts')
    .set({ status: 'unsubscribed', updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', contactId)
    .where('status', '=', 'subscribed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Ends the contact's active runs with this reason; answers how many. */
export async function endRuns(db: Q, accountId: string, contactId: string, reason: string, now: Date): Promise<number> {
  const r = await db
    .updateTable('enrollments')
    .set({ status: 'exited', exit_reason: reason, ended_at: now, updated_at: now })
    .where('account_id', '=', accountId)
    .where('contact_id', '=', contactId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

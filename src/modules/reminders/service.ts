import type { Clock } from '../../platform/clock.ts';
import type { AppDatabase } from '../../schema.ts';
import type { EventsService } from '../events/service.ts';
import { claimDueRemindersStatement } from './reminders.sql.ts';

/**
 * The periodic job of expiry reminders: claims due assignments in batches and records, in the
 * claim's transaction, one `coupon_expiring` event per assignment for its contact, properties
 * `{poolId, code, expiresAt}` (a conversation triggered by it sends the reminder). Safe in any
 * number of processes (see claimDueRemindersStatement); the event's idempotency key
 * `coupon_expiring:<assignment>` is a second guard.
 */
export function remindersService(deps: { database: AppDatabase; clock: Clock; events: EventsService }) {
  const { db } = deps.database;

  async function runDue(batchSize = 500): Promise<{ recorded: number }> {
    let recorded = 0;
    for (;;) {
      const due = await db.transaction().execute(async (tx) => {
        const { rows } = await claimDueRemindersStatement({ now: deps.clock.now(), limit: batchSize }).execute(tx);
        const byAccount = new Map<string, typeof rows>();
        for (const r of rows) if (r.claimed) byAccount.set(r.account_id, [...(byAccount.get(r.account_id) ?? []), r]);
        for (const [accountId, claimed] of byAccount) {
          const ids = await deps.events.recordWithin(
            tx,
            accountId,
            claimed.map((r) => ({
              type: 'coupon_expiring',
              contactId: r.contact_id,
              properties: { poolId: r.pool_id, code: r.code, expiresAt: new Date(r.expires_at).toISOString() },
              idempotencyKey: `coupon_expiring:${r.assignment_id}`,
            })),
          );
          recorded += ids.length;
        }
        return rows.length;
      });
      if (due === 0) return { recorded };
    }
  }

  return { runDue };
}

export type RemindersService = ReturnType<typeof remindersService>;

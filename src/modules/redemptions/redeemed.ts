/**
 * What a new redemption causes, in its transaction (docs/ARCHITECTURE.md "Integrations", issue 14): the runs handed its code
 * end (exitOnRedemption) and code.redeemed is queued for the webhooks. The checkout and Shopify
 * (one redemption at a time) and the report sources (a file chunk, an event batch: set-wise) all
 * end here.
 */
import type { Kysely, RawBuilder } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Redemption } from './model.ts';
import { recordedStatement } from './redeemed.sql.ts';
import type { RedemptionRow } from './redemptions.sql.ts';

export interface Redeemed {
  redemption: Redemption;
  poolKey: number;
  codeId: number | null;
  /** Whether a conversation run was handed the code (only such runs can end); null: not looked up. */
  handedByRun: boolean | null;
}

/** The hook, set-wise: every new redemption of one statement (or one checkout) at once, within `tx`. */
export type OnRedeemed = (tx: Kysely<DB>, accountId: string, redeemed: Redeemed[]) => Promise<void>;

export interface RedeemedHooks {
  onRedeemed?: OnRedeemed | undefined;
  /**
   * Whether every redemption matters to the hook (a webhook subscribes to code.redeemed). When it
   * answers false, the report sources pass only the redemptions of codes a run was handed.
   * Absent: every redemption is passed.
   */
  everyRedemption?: ((q: Kysely<DB>, accountId: string) => Promise<boolean>) | undefined;
}

export const toRedemption = (r: RedemptionRow & { pool_id: string }): Redemption => ({
  id: r.id,
  merchantId: r.merchant_id,
  poolId: r.pool_id,
  code: r.code,
  kind: r.kind,
  contactId: r.contact_id,
  email: r.email,
  orderId: r.order_id,
  amount: r.amount === null ? null : String(r.amount),
  currency: r.currency,
  source: r.source,
  redeemedAt: new Date(r.redeemed_at),
  rolledBackAt: r.rolled_back_at === null ? null : new Date(r.rolled_back_at),
});

/**
 * A report source recorded redemptions under the ids `ids` selects (`withContact` of them with a
 * contact), within `tx`: reads back those the hook wants (one statement) and hands them to it.
 * Answers how many it handed.
 */
export async function afterRecorded(
  hooks: RedeemedHooks,
  tx: Kysely<DB>,
  accountId: string,
  ids: RawBuilder<unknown>,
  withContact: number,
): Promise<number> {
  if (!hooks.onRedeemed) return 0;
  const every = hooks.everyRedemption ? await hooks.everyRedemption(tx, accountId) : true;
  // A run was handed its code to a contact: with no listener and no redemption of a contact, none can end.
  if (!every && withContact === 0) return 0;
  const { rows } = await recordedStatement({ accountId, ids, every }).execute(tx);
  if (rows.length === 0) return 0;
  await hooks.onRedeemed(
    tx,
    accountId,
    rows.map((r) => ({
      redemption: toRedemption(r),
      poolKey: Number(r.pool_key),
      codeId: r.code_id === null ? null : Number(r.code_id),
      handedByRun: r.by_run,
    })),
  );
  return rows.length;
}

/** The data of the code.redeemed webhook event (its fields are listed in README, "Outgoing webhooks"). */
export const redeemedEventData = (r: Redemption) => ({
  redemptionId: r.id,
  poolId: r.poolId,
  merchantId: r.merchantId,
  code: r.code,
  orderId: r.orderId,
  contactId: r.contactId,
  amount: r.amount,
  currency: r.currency,
  source: r.source,
  redeemedAt: r.redeemedAt.toISOString(),
});

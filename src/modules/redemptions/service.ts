import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import { canUseMerchant } from '../accounts/model.ts';
import {
  checkoutReason,
  choose,
  REASON_MESSAGES,
  reportReason,
  type Candidate,
  type InvalidReason,
  type Redemption,
  type RedemptionSource,
} from './model.ts';
import {
  candidatesStatement,
  liveRedemptionsStatement,
  redeemStatement,
  type CandidateRow,
  type RedemptionRow,
} from './redemptions.sql.ts';
import { redeemedAmongStatement } from './redeemed.sql.ts';
import * as repo from './repo.ts';
import { toRedemption, type RedeemedHooks } from './redeemed.ts';
import { reportSources, type RedemptionCounter } from './report-sources.ts';

export interface RedeemRequest {
  code: string;
  orderId: string;
  email?: string | undefined;
  amount?: number | string | undefined;
  currency?: string | undefined;
  occurredAt?: Date | undefined;
}

export interface ValidateAnswer {
  valid: boolean;
  reason: InvalidReason | null;
  code: string;
  poolId: string | null;
  source: Candidate['kind'] | null;
  expiresAt: Date | null;
  contactId: string | null;
}

export type RecordOutcome = { ok: true; redemption: Redemption; created: boolean } | { ok: false; reason: InvalidReason };

export type { RedemptionCounter } from './report-sources.ts';
export { toRedemption, type OnRedeemed, type Redeemed } from './redeemed.ts';

const toCandidate = (r: CandidateRow): Candidate => ({
  poolKey: Number(r.pool_key),
  poolId: r.pool_id,
  active: r.active,
  kind: r.kind,
  codeId: r.code_id === null ? null : Number(r.code_id),
  assignedTo: r.assigned_to,
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  redeemedBy: r.redeemed_by,
});

const normalizeAmount = (amount: number | string | undefined): string | null => (amount === undefined ? null : Number(amount).toFixed(2));

export function redemptionsService(
  deps: {
    database: AppDatabase;
    clock: Clock;
    accounts: AccountsService;
    count?: RedemptionCounter;
  } & RedeemedHooks,
) {
  const { db } = deps.database;
  const reported = reportSources(deps);

  const scope = (principal: Principal, merchantId: string) => {
    // As every /v1/merchants/{id} route: another merchant of the account is forbidden (403).
    if (!canUseMerchant(principal, merchantId)) throw forbidden('This token is limited to other merchants.');
  };

  async function candidates(
    q: Kysely<DB>,
    accountId: string,
    merchantId: string,
    code: string,
    email: string | null,
    orderId: string | null,
  ) {
    const { rows } = await candidatesStatement({ accountId, merchantId, code, email, orderId }).execute(q);
    return { list: rows.map(toCandidate), contactId: rows[0]?.contact_id ?? null, priorId: rows.find((r) => r.prior_id)?.prior_id ?? null };
  }

  /** The checkout question: may this code be redeemed now (by this email)? Changes nothing. */
  async function validate(
    principal: Principal,
    merchantId: string,
    input: { code: string; email?: string | undefined },
  ): Promise<ValidateAnswer> {
    scope(principal, merchantId);
    const found = await candidates(db, principal.accountId, merchantId, input.code, input.email ?? null, null);
    const chosen = choose(found.list, found.contactId);
    const base = { code: input.code, contactId: null, poolId: null, source: null, expiresAt: null };
    if (typeof chosen === 'string') return { ...base, valid: false, reason: chosen };
    const reason = checkoutReason(chosen, { given: input.email !== undefined, contactId: found.contactId }, deps.clock.now());
    return {
      valid: reason === null,
      reason,
      code: input.code,
      poolId: chosen.poolId,
      source: chosen.kind,
      expiresAt: chosen.expiresAt,
      contactId: chosen.kind === 'unique' ? chosen.assignedTo : found.contactId,
    };
  }

  const withPool = (row: RedemptionRow, poolId: string) => toRedemption({ ...row, pool_id: poolId });

  async function findRedemption(q: Kysely<DB>, accountId: string, id: string): Promise<Redemption | undefined> {
    const row = await repo.findRedemption(q, accountId, id);
    return row ? toRedemption(row) : undefined;
  }

  /**
   * Records one redemption within `q` (the database, or an import's/event's transaction), strict
   * (checkout) or lenient (report sources). Decides from the candidates, then runs the one redeem
   * statement; if that records nothing, reads the live redemption that stopped it: this order's
   * (the answer to a retry) or another's (already_redeemed). If none stopped it, the state changed
   * between the two reads: decide again (bounded; a third change in a row is reported as it is).
   */
  async function record(
    q: Kysely<DB>,
    accountId: string,
    merchantId: string,
    input: RedeemRequest,
    source: RedemptionSource,
    strict: boolean,
  ): Promise<RecordOutcome> {
    const email = input.email ?? null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await candidates(q, accountId, merchantId, input.code, email, input.orderId);
      if (found.priorId) {
        const prior = await findRedemption(q, accountId, found.priorId);
        if (prior) return { ok: true, redemption: prior, created: false };
      }
      const chosen = choose(found.list, found.contactId);
      if (typeof chosen === 'string') return { ok: false, reason: chosen };
      const reason = strict
        ? checkoutReason(chosen, { given: email !== null, contactId: found.contactId }, deps.clock.now())
        : reportReason(chosen, input.orderId);
      if (reason) return { ok: false, reason };
      const now = deps.clock.now();
      const { rows } = await redeemStatement({
        accountId,
        id: newId(),
        merchantId,
        poolKey: chosen.poolKey,
        code: input.code,
        codeId: chosen.codeId,
        kind: chosen.kind,
        contactId: chosen.kind === 'unique' ? chosen.assignedTo : found.contactId,
        email,
        orderId: input.orderId,
        amount: normalizeAmount(input.amount),
        currency: input.currency?.toUpperCase() ?? null,
        source,
        redeemedAt: input.occurredAt ?? now,
        now,
        strict: strict ? { assignee: email !== null ? found.contactId : null } : null,
      }).execute(q);
      if (rows[0]) {
        const redemption = withPool(rows[0], chosen.poolId);
        await deps.onRedeemed?.(q, accountId, [{ redemption, poolKey: chosen.poolKey, codeId: chosen.codeId, handedByRun: null }]);
        return { ok: true, redemption, created: true };
      }
      const live = await liveRedemptionsStatement({
        accountId,
        merchantId,
        code: input.code,
        codeId: chosen.codeId,
        orderId: input.orderId,
      }).execute(q);
      const mine = live.rows.find((r) => r.order_id === input.orderId && r.code === input.code && r.merchant_id === merchantId);
      if (mine) return { ok: true, redemption: withPool(mine, chosen.poolId), created: false };
      if (live.rows.length > 0) return { ok: false, reason: 'already_redeemed' };
    }
    return { ok: false, reason: 'already_redeemed' };
  }

  /** The checkout redemption (strict): 201 new, 200 the first answer again, 409/404 with the reason. */
  async function redeem(principal: Principal, merchantId: string, input: RedeemRequest) {
    scope(principal, merchantId);
    // One transaction with what the redemption causes (runs ending, webhook events); without
    // those, the redeem statement alone is atomic.
    const outcome = deps.onRedeemed
      ? await db.transaction().execute((tx) => record(tx, principal.accountId, merchantId, input, 'api', true))
      : await record(db, principal.accountId, merchantId, input, 'api', true);
    deps.count?.('api', outcome.ok ? (outcome.created ? 'recorded' : 'repeated') : outcome.reason);
    if (!outcome.ok) {
      const kind = outcome.reason === 'code_not_found' ? 'not_found' : 'conflict';
      throw new DomainError(kind, outcome.reason, REASON_MESSAGES[outcome.reason]);
    }
    return outcome;
  }

  /** Order cancelled or refunded: the redemption counts nowhere, a unique code is redeemable again. */
  async function rollback(principal: Principal, id: string): Promise<Redemption> {
    const current = await findRedemption(db, principal.accountId, id);
    if (!current || !canUseMerchant(principal, current.merchantId)) throw notFound('redemption');
    if (current.rolledBackAt) return current;
    await repo.markRolledBack(db, principal.accountId, id, deps.clock.now());
    deps.count?.(current.source, 'rolled_back');
    return (await findRedemption(db, principal.accountId, id))!;
  }

  /** An order cancelled (Shopify orders/cancelled): every live redemption of it rolled back, within `tx`. */
  async function rollbackOrderWithin(tx: Kysely<DB>, accountId: string, merchantId: string, orderId: string): Promise<Redemption[]> {
    const rows = await repo.rollBackOrder(tx, accountId, merchantId, orderId, deps.clock.now());
    for (const r of rows) deps.count?.(r.source, 'rolled_back');
    return rows.map(toRedemption);
  }

  async function list(
    principal: Principal,
    merchantId: string,
    filters: repo.RedemptionFilters,
    page: PageQuery,
  ): Promise<Page<Redemption>> {
    await deps.accounts.getMerchant(principal, merchantId);
    const rows = await repo.listRedemptions(db, principal.accountId, merchantId, filters, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
    });
    return toPage(rows.map(toRedemption), page.limit, (r) => r.id);
  }

  /** POST …/redemptions/import: a CSV of orders that used codes (lenient; see report-sources.ts). */
  async function importCsv(principal: Principal, merchantId: string, input: { file: Readable; onInvalid: 'reject' | 'skip' }) {
    await deps.accounts.getMerchant(principal, merchantId);
    const { timeZone } = await deps.accounts.getAccount(principal.accountId);
    return reported.importFile(principal.accountId, merchantId, { ...input, timeZone });
  }

  /** The engine's split on `{coupon, is: "redeemed"}`: which handed (contact, code) pairs have a live redemption, as `contact:code`. */
  async function redeemedAmong(q: Kysely<DB>, accountId: string, handed: readonly { contactId: string; code: string }[]) {
    if (handed.length === 0) return new Set<string>();
    const { rows } = await redeemedAmongStatement(accountId, handed).execute(q);
    return new Set(rows.map((r) => `${r.contact_id}:${r.code}`));
  }

  return { validate, redeem, record, rollback, rollbackOrderWithin, list, importCsv, recordEvents: reported.recordEvents, redeemedAmong };
}

export type RedemptionsService = ReturnType<typeof redemptionsService>;

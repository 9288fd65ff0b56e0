/** Redemptions: pure rules, no SQL, no HTTP. */
import { z } from 'zod';

export const REDEMPTION_SOURCES = ['api', 'file', 'event', 'shopify'] as const;
export type RedemptionSource = (typeof REDEMPTION_SOURCES)[number];
export type CodeKind = 'unique' | 'static' | 'default';

/** Why a code cannot be redeemed (validate's `reason`); `ambiguous_code` only when pools disagree. */
export type InvalidReason =
  'code_not_found' | 'not_assigned' | 'assigned_to_other' | 'expired' | 'already_redeemed' | 'pool_inactive' | 'ambiguous_code';

/** One place a code text is known in a merchant's pools (a unique code, a static row, a default code). */
export interface Candidate {
  poolKey: number;
  poolId: string;
  active: boolean;
  kind: CodeKind;
  /** Unique codes only. */
  codeId: number | null;
  /** The assignee (unique code), or the order's contact's assignment of a shared code; null if none. */
  assignedTo: string | null;
  /** The expiration that applies: the assignment's, else the code's (static row, default code); null = never. */
  expiresAt: Date | null;
  /** The order that holds a live redemption of this unique code, if any. */
  redeemedBy: string | null;
}

export interface Redemption {
  id: string;
  merchantId: string;
  poolId: string;
  code: string;
  kind: CodeKind;
  contactId: string | null;
  email: string | null;
  orderId: string;
  amount: string | null;
  currency: string | null;
  source: RedemptionSource;
  redeemedAt: Date;
  rolledBackAt: Date | null;
}

/**
 * Which candidate a code means. One candidate: that one. Several (the same text in several pools of
 * the merchant): the one assigned to the order's contact, if exactly one is; otherwise it is
 * ambiguous, and reported as such, never guessed.
 */
export function choose(candidates: readonly Candidate[], contactId: string | null): Candidate | 'code_not_found' | 'ambiguous_code' {
  if (candidates.length === 0) return 'code_not_found';
  if (candidates.length === 1) return candidates[0]!;
  const mine = contactId ? candidates.filter((c) => c.assignedTo === contactId) : [];
  return mine.length === 1 ? mine[0]! : 'ambiguous_code';
}

/**
 * The checkout rules (strict): the first reason that applies, or null when the code may be redeemed.
 * `contactId` is the contact of the email given (null: none given; `unknown`: an email nobody has).
 */
export function checkoutReason(c: Candidate, email: { given: boolean; contactId: string | null }, now: Date): InvalidReason | null {
  if (!c.active) return 'pool_inactive';
  if (c.kind === 'unique') {
    if (c.assignedTo === null) return 'not_assigned';
    if (email.given && email.contactId !== c.assignedTo) return 'assigned_to_other';
    if (c.redeemedBy !== null) return 'already_redeemed';
  }
  if (c.expiresAt !== null && c.expiresAt.getTime() <= now.getTime()) return 'expired';
  return null;
}

/** The report sources (lenient: the order already happened): only another order's redemption stops one. */
export function reportReason(c: Candidate, orderId: string): InvalidReason | null {
  return c.kind === 'unique' && c.redeemedBy !== null && c.redeemedBy !== orderId ? 'already_redeemed' : null;
}

export const REASON_MESSAGES: Record<InvalidReason, string> = {
  code_not_found: 'No pool of this merchant holds this code.',
  not_assigned: 'This unique code was never handed out.',
  assigned_to_other: 'This code was handed to another contact.',
  expired: 'This code has expired.',
  already_redeemed: 'Another order already redeemed this code.',
  pool_inactive: 'The pool of this code is not active.',
  ambiguous_code: 'Several pools of this merchant hold this code and none is assigned to this contact alone.',
};

/** What an event's coupon codes did (the answer to POST /v1/events lists both sides). */
export interface EventRedemptions {
  recorded: { code: string; redemptionId: string; poolId: string }[];
  /** `already_recorded`: this order holds the code already (redemptionId names that redemption). */
  notRecorded: { code: string; reason: InvalidReason | 'invalid_code' | 'already_recorded'; redemptionId?: string }[];
}

/** An event's coupon codes to record, read from its properties (pure). */
export interface NamedCoupons {
  codes: string[];
  invalid: { code: string; reason: 'invalid_code' }[];
  orderId: string;
  amount: string | null;
  currency: string | null;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;

/**
 * `properties.couponCode` (a string) and `properties.couponCodes` (an array) name codes; null when
 * the event names none. The order is `properties.orderId` (a string or number), else the event's
 * idempotency key, else the event itself: the same event retried never redeems twice. An amount
 * (`amount` or `totalPrice`) and a `currency` are kept when well-formed, dropped otherwise.
 */
export function namedCoupons(
  properties: Record<string, unknown>,
  event: { id: string; idempotencyKey: string | null },
): NamedCoupons | null {
  const raw: unknown[] = [];
  if ('couponCode' in properties) raw.push(properties.couponCode);
  if ('couponCodes' in properties) raw.push(...(Array.isArray(properties.couponCodes) ? properties.couponCodes : [properties.couponCodes]));
  if (raw.length === 0) return null;
  const codes: string[] = [];
  const invalid: NamedCoupons['invalid'] = [];
  for (const value of raw) {
    const code = typeof value === 'string' ? value.trim() : null;
    if (code === null || code.length === 0 || code.length > 50 || CONTROL.test(code))
      invalid.push({ code: String(typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 60), reason: 'invalid_code' });
    else if (!codes.includes(code)) codes.push(code);
  }
  const order = properties.orderId;
  const orderId =
    (typeof order === 'string' && order.trim() !== '' && order.length <= 200) || (typeof order === 'number' && Number.isFinite(order))
      ? String(order).trim()
      : `event:${event.idempotencyKey ?? event.id}`;
  const money = properties.amount ?? properties.totalPrice;
  const amountText =
    typeof money === 'number' && Number.isFinite(money) && money >= 0 ? money.toFixed(2) : typeof money === 'string' ? money.trim() : '';
  const amount = AMOUNT.test(amountText) ? amountText : null;
  const currency =
    typeof properties.currency === 'string' && /^[A-Za-z]{3}$/.test(properties.currency) ? properties.currency.toUpperCase() : null;
  return { codes, invalid, orderId, amount, currency };
}

/** A redemption as the API answers it (JSON; the console reads these names). */
export interface RedemptionJson {
  id: string;
  code: string;
  poolId: string;
  merchantId: string;
  kind: CodeKind;
  contactId: string | null;
  email: string | null;
  orderId: string;
  amount: string | null;
  currency: string | null;
  redeemedAt: string;
  source: RedemptionSource;
  rolledBackAt: string | null;
}

/** The answer to POST …/redemptions/import (and `import` on its 422 import_rejected). */
export interface RedemptionImportReport {
  status: 'imported' | 'rejected';
  lines: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; reason: string }[];
  errorCount: number;
}

/** A merchant's redemption list's filters (GET /v1/merchants/{merchantId}/redemptions). */
export const redemptionFilterQuery = z.object({
  poolId: z.string().max(100).optional(),
  code: z.string().max(50).optional(),
  orderId: z.string().max(200).optional(),
  source: z.enum(REDEMPTION_SOURCES).optional(),
  status: z.enum(['live', 'rolled_back']).optional(),
});
export type RedemptionFilters = z.input<typeof redemptionFilterQuery>;

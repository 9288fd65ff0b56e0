/** Redemptions: pure rules, no SQL, no HTTP. */

export type RedemptionSource = 'api' | 'file' | 'event' | 'shopify';
export type CodeKind = 'unique' | 'static' | 'default';

/** Why a code cannot be redeemed (validate's `reason`); `ambiguous_code` only when pools disagree. */
export type InvalidReason = 'code_not_found' | 'not_assigned' | 'assigned_to_other' | 'expired' | 'already_redeemed' | 'pool_inactive' | 'ambiguous_code';

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

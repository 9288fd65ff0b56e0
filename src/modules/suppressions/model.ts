/** Suppression list: addresses of an account that get no marketing mail. Pure. */
import { emailProblem } from '../contacts/model.ts';

export const SUPPRESSION_REASONS = ['unsubscribed', 'bounced', 'complained', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  detail: string | null;
  createdAt: Date;
}

/** Addresses are kept lower-cased: one suppression per address, whatever its case. */
export const suppressionKey = (email: string): string => email.trim().toLowerCase();

export interface ImportLineResult {
  line: number;
  email?: string;
  reason?: SuppressionReason;
  error?: string;
}

/**
 * One CSV line of a suppression import: `email[,reason]`; a first line naming `email` is a
 * header. An empty reason is `manual`. Quotes around a value are dropped.
 */
export function parseSuppressionLine(raw: string, line: number): ImportLineResult | null {
  const cells = raw.split(',').map((c) =>
    c
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim(),
  );
  if (cells.length === 1 && cells[0] === '') return null;
  if (line === 1 && cells[0]!.toLowerCase() === 'email') return null;
  const email = cells[0]!;
  const problem = emailProblem(email);
  if (problem) return { line, error: problem };
  const reason = (cells[1] || 'manual').toLowerCase();
  if (!(SUPPRESSION_REASONS as readonly string[]).includes(reason))
    return { line, error: `unknown reason "${reason.slice(0, 40)}" (use ${SUPPRESSION_REASONS.join(', ')})` };
  return { line, email: suppressionKey(email), reason: reason as SuppressionReason };
}

import { z } from 'zod';

/**
 * The one rule for an email address, wherever one comes in (events, contacts and their import,
 * messages' sender, pools' notification lists, assignments): what can safely go into a mail
 * header and be delivered, without the full RFC 5322 grammar (quoted local parts, comments and
 * address literals are refused). `local@domain`: the local part 1–64 characters without spaces,
 * control characters or any of `@ " , ; < > ( ) [ ] \`, no leading, trailing or double dot; the
 * domain one or more labels of letters (any script), digits and inner hyphens, 1–63 characters
 * each, dot-separated (`localhost` too). At most 320 characters in all.
 */
export const MAX_EMAIL_LENGTH = 320;

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const LOCAL = /^(?!\.)(?!.*\.\.)[^\s\u0000-\u001f\u007f@",;<>()[\]\\\p{Cc}\p{Cf}\p{Cs}]{1,64}(?<!\.)$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export function isEmail(text: string): boolean {
  if (text.length === 0 || text.length > MAX_EMAIL_LENGTH) return false;
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return false;
  if (!LOCAL.test(text.slice(0, at))) return false;
  const domain = text.slice(at + 1);
  return domain.length <= 253 && domain.split('.').every((label) => LABEL.test(label));
}

const shown = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/** Why `email` (already trimmed) is not an address, or null. */
export function emailProblem(email: string): string | null {
  if (email.length === 0) return 'the email is empty';
  if (email.length > MAX_EMAIL_LENGTH) return `the email is longer than ${MAX_EMAIL_LENGTH} characters`;
  return isEmail(email) ? null : `${shown(email)} is not an email address`;
}

/** The rule as a zod schema for request bodies (trimmed first). */
export const emailField = () => z.string().trim().max(MAX_EMAIL_LENGTH).refine(isEmail, 'not an email address');

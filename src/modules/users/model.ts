import { z } from 'zod';
import { emailField } from '../../platform/email.ts';
import { ROLES } from '../accounts/permissions.ts';

/** Users' contract (endpoint table): pure schemas and rules, shared with the console. */

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;
/** An invitation link lasts 7 days; a reset link 1 hour. Each works once. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * A short built-in list of the most common passwords of 10 characters or more (from the public
 * breach top lists), refused whatever their case.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890',
  '0123456789',
  '12345678910',
  '123456789a',
  '1234567890a',
  '1q2w3e4r5t',
  '1q2w3e4r5t6y',
  'qwertyuiop',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  'asdfghjkl1',
  'zxcvbnm123',
  'password12',
  'password123',
  'password1234',
  'passw0rd123',
  'iloveyou12',
  'iloveyou123',
  'princess12',
  'football12',
  'baseball12',
  'starwars12',
  'welcome123',
  'welcome1234',
  'letmein123',
  'sunshine12',
  'monkey1234',
  'dragon1234',
  'superman12',
  'trustno1234',
  'abcdefghij',
  'abcd123456',
  'abc1234567',
  'aaaaaaaaaa',
  '1111111111',
  '0000000000',
  '9876543210',
  '1122334455',
  '1234512345',
  'changeme12',
  'changeme123',
  'administrator',
  'admin12345',
  'admin123456',
  'couponflow',
  'couponflow1',
  'couponflow123',
  'q1w2e3r4t5',
  'qazwsxedcr',
  '1qaz2wsx3edc',
  'zaq12wsxcde',
  'michael123',
  'jennifer12',
  'computer12',
]);

/** Why this password is refused, or null: length, the common list, the address itself. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'one of the most common passwords: choose another';
  if (/^(.)\1+$/.test(password)) return 'one character repeated: choose another';
  if (email && (lower === email.toLowerCase() || lower === email.split('@')[0]!.toLowerCase())) return 'your email address: choose another';
  return null;
}

export const USER_STATUSES = ['invited', 'active'] as const;

export const userOut = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  merchantIds: z.array(z.string()).nullable(),
  status: z.enum(USER_STATUSES),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof userOut>;

const merchantList = z.array(z.string().min(1).max(100)).max(500);

export const inviteBody = z.object({ email: emailField(), role: z.enum(ROLES), merchantIds: merchantList.optional() }).strict();
/** null merchantIds: every merchant again. */
export const updateBody = z
  .object({ role: z.enum(ROLES).optional(), merchantIds: merchantList.nullable().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.merchantIds !== undefined, 'send role or merchantIds');

export const linkToken = z.string().min(20).max(200);
export const linkBody = z.object({ token: linkToken }).strict();
export const setPasswordBody = z.object({ token: linkToken, password: z.string().max(PASSWORD_MAX_LENGTH) }).strict();
export const resetRequestBody = z.object({ email: emailField() }).strict();
export const passwordSignIn = z
  .object({ email: z.string().trim().max(320), password: z.string().min(1).max(PASSWORD_MAX_LENGTH) })
  .strict();

export const linkOut = z.object({ email: z.string(), purpose: z.enum(['invite', 'reset']), expiresAt: z.string() });

/** Where a one-time link lands: the console's set-password page (a hash route: the token never reaches a server log). */
export const passwordLinkUrl = (baseUrl: string, token: string) =>
  `${baseUrl.replace(/\/$/, '')}/#/set-password/${encodeURIComponent(token)}`;

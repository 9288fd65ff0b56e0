import { z } from 'zod';
import { ROLES, type Role } from './permissions.ts';

export interface Account {
  id: string;
  name: string;
  timeZone: string;
  createdAt: Date;
}

export interface Merchant {
  id: string;
  name: string;
  domain: string;
  createdAt: Date;
}

export interface Token {
  id: string;
  accountId: string;
  name: string;
  role: Role;
  merchantIds: string[] | null;
  installationAdmin: boolean;
}

/** May this caller act on this merchant of its own account? */
export const canUseMerchant = (principal: Pick<Principal, 'merchantIds'>, merchantId: string): boolean =>
  principal.merchantIds === null || principal.merchantIds.includes(merchantId);

/** Who acts: an API token or a console user. Named in the audit log (id and name, never a secret). */
export interface Actor {
  type: 'token' | 'user';
  id: string;
  name: string;
}

/** Who is calling: resolved from the bearer token or from a console session cookie (principal.ts). */
export interface Principal {
  accountId: string;
  /** The token acting, or null for a signed-in user. */
  tokenId: string | null;
  /** The user acting (console sign-in with email and password), or null for a token. */
  userId: string | null;
  /** null: every merchant of the account. */
  merchantIds: string[] | null;
  installationAdmin: boolean;
  role: Role;
  actor: Actor;
}

export const principalOfToken = (token: Token): Principal => ({
  accountId: token.accountId,
  tokenId: token.id,
  userId: null,
  merchantIds: token.merchantIds,
  installationAdmin: token.installationAdmin,
  role: token.role,
  actor: { type: 'token', id: token.id, name: token.name },
});

// ---------------------------------------------------------------------------------------------
// The API's shapes (routes.ts validates and serializes them; the console reads them: web/src/api.ts)

export const merchantOut = z.object({ id: z.string(), name: z.string(), domain: z.string(), createdAt: z.string() });

export const sessionOut = z.object({
  accountId: z.string(),
  accountName: z.string(),
  timeZone: z.string(),
  merchantIds: z.array(z.string()).nullable(),
  installationAdmin: z.boolean(),
  via: z.enum(['session', 'token']),
  role: z.enum(ROLES),
  actor: z.object({ type: z.enum(['token', 'user']), id: z.string(), name: z.string() }),
});
export type MerchantJson = z.infer<typeof merchantOut>;
export type SessionJson = z.infer<typeof sessionOut>;

/** A token as GET /v1/tokens lists it (never its secret). */
export const tokenOut = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  merchantIds: z.array(z.string()).nullable(),
  installationAdmin: z.boolean(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type TokenJson = z.infer<typeof tokenOut>;

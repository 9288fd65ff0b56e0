import { z } from 'zod';

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
  merchantIds: string[] | null;
  installationAdmin: boolean;
}

/** May this caller act on this merchant of its own account? */
export const canUseMerchant = (principal: Pick<TokenPrincipal, 'merchantIds'>, merchantId: string): boolean =>
  principal.merchantIds === null || principal.merchantIds.includes(merchantId);

/** The caller a token makes (platform/http/auth.ts's Principal, by shape: this file stays free of HTTP). */
export interface TokenPrincipal {
  accountId: string;
  tokenId: string;
  merchantIds: string[] | null;
  installationAdmin: boolean;
}

export const principalOfToken = (token: Token): TokenPrincipal => ({
  accountId: token.accountId,
  tokenId: token.id,
  merchantIds: token.merchantIds,
  installationAdmin: token.installationAdmin,
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
});
export type MerchantJson = z.infer<typeof merchantOut>;
export type SessionJson = z.infer<typeof sessionOut>;

import type { Principal } from '../../platform/http/auth.ts';

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
export const canUseMerchant = (principal: Principal, merchantId: string): boolean =>
  principal.merchantIds === null || principal.merchantIds.includes(merchantId);

export const principalOfToken = (token: Token): Principal => ({
  accountId: token.accountId,
  tokenId: token.id,
  merchantIds: token.merchantIds,
  installationAdmin: token.installationAdmin,
});

import type { Principal } from './principal.ts';
import type { Role } from './permissions.ts';

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
export const canUseMerchant = (principal: Principal, merchantId: string): boolean =>
  principal.merchantIds === null || principal.merchantIds.includes(merchantId);

export const principalOfToken = (token: Token): Principal => ({
  accountId: token.accountId,
  tokenId: token.id,
  userId: null,
  merchantIds: token.merchantIds,
  installationAdmin: token.installationAdmin,
  role: token.role,
  actor: { type: 'token', id: token.id, name: token.name },
});

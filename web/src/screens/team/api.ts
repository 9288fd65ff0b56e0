import { request, type Page } from '../../api.ts';
import type { Role } from '../../../../src/modules/accounts/permissions.ts';
import type { UserView } from '../../../../src/modules/users/model.ts';
import type { TokenJson } from '../../../../src/modules/accounts/model.ts';
import type { AuditEntry } from '../../../../src/modules/audit/model.ts';

/** The team screens' calls (users, tokens, audit, password links), over the same REST API. */
export type TokenView = TokenJson;
const qs = (params: Record<string, string | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v) as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
};

export const teamApi = {
  users: (cursor?: string) => request<Page<UserView>>('GET', `/v1/users${qs({ limit: '50', cursor })}`),
  invite: (body: { email: string; role: Role; merchantIds?: string[] }) => request<UserView>('POST', '/v1/users', body),
  updateUser: (id: string, body: { role?: Role; merchantIds?: string[] | null }) =>
    request<UserView>('PATCH', `/v1/users/${encodeURIComponent(id)}`, body),
  removeUser: (id: string) => request<void>('DELETE', `/v1/users/${encodeURIComponent(id)}`),
  tokens: (cursor?: string) => request<Page<TokenView>>('GET', `/v1/tokens${qs({ limit: '50', cursor })}`),
  createToken: (body: { name: string; role: Role; merchantIds?: string[] }) =>
    request<{ id: string; name: string; role: Role; token: string }>('POST', '/v1/tokens', body),
  revokeToken: (id: string) => request<void>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`),
  audit: (filter: { action?: string; resourceType?: string; cursor?: string }) =>
    request<Page<AuditEntry>>('GET', `/v1/audit${qs({ limit: '50', ...filter })}`),
  inspectLink: (token: string) =>
    request<{ email: string; purpose: 'invite' | 'reset'; expiresAt: string }>('POST', '/v1/password-links/inspect', { token }),
  setPassword: (token: string, password: string) => request<void>('POST', '/v1/password-links/use', { token, password }),
  requestReset: (email: string) => request<{ accepted: true }>('POST', '/v1/password-resets', { email }),
};

import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors.ts';
import type { Role } from './permissions.ts';

/** Who acts: an API token or a console user. Named in the audit log (id and name, never a secret). */
export interface Actor {
  type: 'token' | 'user';
  id: string;
  name: string;
}

/** Who is calling: resolved from the bearer token or from a console session cookie. */
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

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The console session id, when the caller was signed in by cookie rather than by token. */
    sessionId?: string;
  }
}

/** The caller, on a route that is not public (the hook has already refused anonymous calls). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DomainError('unauthorized', 'unauthorized', 'Not signed in.');
  return request.principal;
}

/** A principal for code that acts on an account outside any request (benchmarks, test processes). */
export const ownerPrincipal = (accountId: string, tokenId = 'internal'): Principal => ({
  accountId,
  tokenId,
  userId: null,
  merchantIds: null,
  installationAdmin: false,
  role: 'owner',
  actor: { type: 'token', id: tokenId, name: tokenId },
});

import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors.ts';
import type { Principal } from './model.ts';

export type { Actor, Principal } from './model.ts';

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

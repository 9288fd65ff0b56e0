import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors.ts';

/** Who is calling: resolved from the bearer token (or, later, a console session). */
export interface Principal {
  accountId: string;
  tokenId: string;
  /** null: every merchant of the account. */
  merchantIds: string[] | null;
  installationAdmin: boolean;
}

export type Authenticate = (token: string) => Promise<Principal | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Served without a token (health, the console's static files). */
    public?: boolean;
  }
}

const unauthorized = (message: string) => new DomainError('unauthorized', 'unauthorized', message);

/** Runs first on every request (before the body is read), so a missing token is always a 401. */
export function authHook(authenticate: Authenticate) {
  return async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    if (!header) throw unauthorized('Send a token: Authorization: Bearer <token>.');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthorized('The Authorization header must be "Bearer <token>".');
    const principal = await authenticate(match[1]);
    if (!principal) throw unauthorized('This token is not valid.');
    request.principal = principal;
  };
}

/** The caller, on a route that is not public (the hook has already refused anonymous calls). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized('Not signed in.');
  return request.principal;
}

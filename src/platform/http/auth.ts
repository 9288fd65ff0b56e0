import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../errors.ts';

/** Who is calling: resolved from the bearer token or from a console session cookie. */
export interface Principal {
  accountId: string;
  tokenId: string;
  /** null: every merchant of the account. */
  merchantIds: string[] | null;
  installationAdmin: boolean;
}

export type Authenticate = (token: string) => Promise<Principal | undefined>;

/** The console's session cookie (see modules/accounts/sessions.ts); used only without a bearer token. */
export interface SessionAuth {
  cookieName: string;
  resolve: (sessionId: string) => Promise<Principal | undefined>;
  /** Origins accepted on state-changing requests besides the request's own host (PUBLIC_URL). */
  allowedOrigins: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The console session id, when the caller was signed in by cookie rather than by token. */
    sessionId?: string;
  }
  interface FastifyContextConfig {
    /** Served without a token (health, the console's static files). */
    public?: boolean;
    /**
     * A page for people (the API docs): a browser without a session (it asks for HTML, not JSON)
     * is sent to the console's sign-in, which comes back here; API clients still get the 401.
     */
    signInRedirect?: boolean;
  }
}

const unauthorized = (message: string) => new DomainError('unauthorized', 'unauthorized', message);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One cookie's value from the Cookie header (no dependency needed for reading one name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Cross-site request forgery guard for cookie-authenticated calls: the browser's Origin header must
 * name this server (its Host) or a configured origin. SameSite=Strict already keeps the cookie off
 * cross-site requests; this is the second lock, and it refuses a request with no Origin at all.
 */
export function originAllowed(request: FastifyRequest, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (!origin || origin === 'null') return false;
  if (allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Runs first on every request (before the body is read), so a missing token is always a 401. */
export function authHook(authenticate: Authenticate, session?: SessionAuth) {
  const check = identify(authenticate, session);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config?.public) return;
    try {
      await check(request);
    } catch (err) {
      if (request.routeOptions.config?.signInRedirect && err instanceof DomainError && err.kind === 'unauthorized' && wantsPage(request)) {
        return reply.redirect(`/?next=${encodeURIComponent(request.url)}`, 303);
      }
      throw err;
    }
  };
}

/** A browser navigating (Accept: text/html first), not an API client asking for JSON. */
function wantsPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /text\/html/.test(accept) && !/application\/json/.test(accept);
}

function identify(authenticate: Authenticate, session?: SessionAuth) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const sessionId = !header && session ? readCookie(request.headers.cookie, session.cookieName) : undefined;
    if (session && sessionId) {
      const principal = await session.resolve(sessionId);
      if (!principal) throw unauthorized('Your console session has ended; sign in again.');
      if (!SAFE_METHODS.has(request.method) && !originAllowed(request, session.allowedOrigins)) {
        throw new DomainError('forbidden', 'origin_mismatch', 'A signed-in change must come from the console itself (Origin header).');
      }
      request.principal = principal;
      request.sessionId = sessionId;
      return;
    }
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

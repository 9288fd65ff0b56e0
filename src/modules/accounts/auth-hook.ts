import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../platform/errors.ts';
import { originAllowed, readCookie } from '../../platform/http/auth.ts';
import { roleCan, ruleOf, type Permission } from './permissions.ts';
import type { Principal } from './principal.ts';

export type Authenticate = (token: string) => Promise<Principal | undefined>;

/** The console's session cookie (see sessions.ts); used only without a bearer token. */
export interface SessionAuth {
  cookieName: string;
  resolve: (sessionId: string) => Promise<Principal | undefined>;
  /** Origins accepted on state-changing requests besides the request's own host (PUBLIC_URL). */
  allowedOrigins: readonly string[];
}

const unauthorized = (message: string) => new DomainError('unauthorized', 'unauthorized', message);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** May `principal` use `permission`? Installation-wide ones need the installation admin token too. */
export const allowed = (principal: Principal, permission: Permission | 'self'): boolean =>
  roleCan(principal.role, permission) && (permission !== 'installation:admin' || principal.installationAdmin);

/**
 * Runs first on every request (before the body is read): no or a wrong token is a 401, then the
 * route's permission (permissions.ts) is checked against the caller's role, for tokens and users
 * alike: 403 `forbidden` naming the missing permission. A route nobody classified is refused.
 */
export function authHook(authenticate: Authenticate, session?: SessionAuth) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config?.public) return;
    let principal: Principal;
    try {
      principal = await identify(request, authenticate, session);
    } catch (err) {
      if (request.routeOptions.config?.signInRedirect && err instanceof DomainError && err.kind === 'unauthorized' && wantsPage(request)) {
        return reply.redirect(`/?next=${encodeURIComponent(request.url)}`, 303);
      }
      throw err;
    }
    request.principal = principal;
    const url = request.routeOptions.url;
    if (!url) return; // no such route: the 404 follows
    const rule = ruleOf(request.method, url);
    if (!rule) {
      request.log.error({ route: `${request.method} ${url}` }, 'route missing from the permission table');
      throw new DomainError('forbidden', 'forbidden', `${request.method} ${url} is not in the permission table: nobody may call it yet.`, [
        { permission: null },
      ]);
    }
    if (!allowed(principal, rule.permission)) {
      throw new DomainError(
        'forbidden',
        'forbidden',
        `This needs the permission ${rule.permission}, which the role ${principal.role} does not have.`,
        [{ permission: rule.permission, role: principal.role }],
      );
    }
  };
}

/** A browser navigating (Accept: text/html first), not an API client asking for JSON. */
function wantsPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /text\/html/.test(accept) && !/application\/json/.test(accept);
}

async function identify(request: FastifyRequest, authenticate: Authenticate, session: SessionAuth | undefined): Promise<Principal> {
  const header = request.headers.authorization;
  const sessionId = !header && session ? readCookie(request.headers.cookie, session.cookieName) : undefined;
  if (session && sessionId) {
    const principal = await session.resolve(sessionId);
    if (!principal) throw unauthorized('Your console session has ended; sign in again.');
    if (!SAFE_METHODS.has(request.method) && !originAllowed(request, session.allowedOrigins)) {
      throw new DomainError('forbidden', 'origin_mismatch', 'A signed-in change must come from the console itself (Origin header).');
    }
    request.sessionId = sessionId;
    return principal;
  }
  if (!header) throw unauthorized('Send a token: Authorization: Bearer <token>.');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw unauthorized('The Authorization header must be "Bearer <token>".');
  const principal = await authenticate(match[1]);
  if (!principal) throw unauthorized('This token is not valid.');
  return principal;
}

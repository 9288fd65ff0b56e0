import type { FastifyRequest } from 'fastify';

/**
 * HTTP helpers of sign-in that know nothing of who signs in: the principal, the auth hook and the
 * permission table live with the accounts module (modules/accounts/principal.ts, auth-hook.ts).
 */
declare module 'fastify' {
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

/** One cookie's value from the Cookie header (no dependency needed for reading one name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
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

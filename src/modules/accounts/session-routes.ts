import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../../platform/http/app.ts';
import { originAllowed } from '../../platform/http/auth.ts';
import { principalOf } from './principal.ts';
import { DomainError, forbidden } from '../../platform/errors.ts';
import { errorBody } from '../../platform/http/errors.ts';
import type { AccountsService } from './service.ts';
import { SESSION_TTL_MS, type NewSession, type SessionsService } from './sessions.ts';
import { sessionOut } from './model.ts';

export const SESSION_COOKIE = 'couponflow_session';

/** `Secure` when the request came over HTTPS: request.protocol honours X-Forwarded-Proto only with TRUST_PROXY. */
function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number) {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`);
}

/** Sign-in by email and password (users/service.ts); undefined: not offered. */
export type PasswordSignIn = (email: string, password: string, client: string) => Promise<NewSession>;

/**
 * The console's sign-in: POST exchanges a pasted token for an HttpOnly, SameSite=Strict cookie
 * (the token itself never reaches browser storage), GET says who is signed in, DELETE signs out.
 */
export function sessionRoutes(
  app: HttpApp,
  deps: { accounts: AccountsService; sessions: SessionsService; allowedOrigins: readonly string[]; passwordSignIn?: PasswordSignIn },
) {
  const describe = async (request: FastifyRequest) => {
    const principal = principalOf(request);
    const account = await deps.accounts.getAccount(principal.accountId);
    return {
      accountId: account.id,
      accountName: account.name,
      timeZone: account.timeZone,
      merchantIds: principal.merchantIds,
      installationAdmin: principal.installationAdmin,
      via: request.sessionId ? ('session' as const) : ('token' as const),
      role: principal.role,
      actor: principal.actor,
    };
  };

  app.post(
    '/v1/session',
    {
      // Public by nature: this is where a caller without a session or token header signs in (the token is in the body).
      config: { public: true },
      schema: {
        tags: ['session'],
        summary:
          "Console sign-in: a user's email and password, or an API token, for a session cookie (HttpOnly, SameSite=Strict, 12 hours)",
        description:
          'The cookie is Secure when the request came over HTTPS (X-Forwarded-Proto counts with TRUST_PROXY). By token: after SIGN_IN_MAX_FAILURES (default 10) failed sign-ins from one client address within 15 minutes, further tries get 429 too_many_attempts until those 15 minutes are over. By password: after 5 failed sign-ins for one address (or from one client address) within 15 minutes, 429 too_many_attempts for 15 minutes.',
        body: z.union([
          z.object({ token: z.string().min(1).max(200) }).strict(),
          z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(200) }).strict(),
        ]),
        response: {
          201: sessionOut.extend({ expiresAt: z.string() }),
          429: z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()) }) }),
        },
      },
    },
    async (request, reply) => {
      // A browser always sends Origin on a POST: a sign-in posted from another site is refused.
      if (request.headers.origin !== undefined && !originAllowed(request, deps.allowedOrigins)) {
        throw forbidden('Sign in from the console itself.');
      }
      let session: NewSession | undefined;
      if ('email' in request.body) {
        if (!deps.passwordSignIn) throw new DomainError('unauthorized', 'unauthorized', 'Sign-in by password is not offered here.');
        session = await deps.passwordSignIn(request.body.email, request.body.password, request.ip);
        return signedIn(request, reply, session);
      }
      // Per client (its address; behind a proxy, with TRUST_PROXY, the forwarded one).
      const limiter = deps.sessions.signInLimiter;
      const wait = limiter.retryAfterMs(request.ip);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return reply
          .status(429)
          .header('retry-after', String(seconds))
          .send(errorBody('too_many_attempts', `Too many failed sign-ins from this address; try again in ${seconds} s.`));
      }
      session = await deps.sessions.signIn(request.body.token);
      if (!session) {
        limiter.fail(request.ip);
        throw new DomainError('unauthorized', 'unauthorized', 'This token is not valid.');
      }
      return signedIn(request, reply, session);
    },
  );

  async function signedIn(request: FastifyRequest, reply: FastifyReply, session: NewSession) {
    setCookie(request, reply, session.id, Math.floor(SESSION_TTL_MS / 1000));
    request.principal = session.principal;
    request.sessionId = session.id;
    return reply.status(201).send({ ...(await describe(request)), expiresAt: session.expiresAt.toISOString() });
  }

  app.get(
    '/v1/session',
    { schema: { tags: ['session'], summary: 'Who is signed in (by session cookie or by token)', response: { 200: sessionOut } } },
    async (request) => describe(request),
  );

  app.delete(
    '/v1/session',
    { schema: { tags: ['session'], summary: 'Sign out: ends the console session and clears its cookie', response: { 204: z.null() } } },
    async (request, reply) => {
      if (request.sessionId) await deps.sessions.signOut(request.sessionId);
      setCookie(request, reply, '', 0);
      return reply.status(204).send(null);
    },
  );
}

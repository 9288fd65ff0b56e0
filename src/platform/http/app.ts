import Fastify, { type FastifyInstance, type FastifyBaseLogger, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifyMultipart from '@fastify/multipart';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import './auth.ts';
import { errorBody, handleError } from './errors.ts';
import { renderDocsPage } from './docs-page.ts';
import { forbidden } from '../errors.ts';
import { checkRequestStrings, parseJsonBody } from './input.ts';
import type { Metrics } from '../metrics.ts';

export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, for the test that checks each one refuses anonymous calls. */
    routeTable: RouteEntry[];
    /** Largest uploaded file, in bytes (multipart.ts names it in its 413). */
    uploadLimit: number;
  }
}

export interface HttpOptions {
  /** The process's pino logger: requests are logged where the rest is. */
  logger: FastifyBaseLogger;
  bodyLimit: number;
  /** Largest uploaded file, in bytes. */
  uploadLimit: number;
  /** Runs first on every request: identifies the caller and checks its permission (modules/accounts/auth-hook.ts). */
  authHook: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** May this caller read /metrics (installation-wide figures)? */
  metricsAllowed: (request: FastifyRequest) => boolean;
  metrics: Metrics;
  health: () => Promise<{ ok: boolean; detail?: string }>;
  /** Behind a reverse proxy: honour X-Forwarded-For / -Proto (client address, https). */
  trustProxy?: boolean;
}

export async function createHttpApp(options: HttpOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // Keep-alive connections must not hold shutdown hostage.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
    // The router's own refusals (a URL that does not decode, a param over maxParamLength) in the
    // API's error format (`{"error": {"code", "message", "details"}}`) like every other answer.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.statusCode === 414;
      const plain = reply as unknown as { status(code: number): { send(body: unknown): unknown } };
      void plain.status(tooLong ? 414 : 400).send(errorBody(tooLong ? 'uri_too_long' : 'malformed_request', error.message));
    },
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only: a body sent as text/plain is refused as unsupported (415), not half-validated.
  app.removeContentTypeParser('text/plain');
  // JSON read by our own parser: NUL, lone surrogates, runaway nesting and infinite numbers are
  // refused here, for every route, before any schema or SQL sees them (input.ts).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.decorate('uploadLimit', options.uploadLimit);
  app.decorate('routeTable', [] as RouteEntry[]);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      app.routeTable.push({ method, url: route.url, public: Boolean(route.config?.public) });
    }
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
  app.addHook('onRequest', options.authHook);
  // Params and query strings: the same characters refused as in JSON bodies (400, not a 500 from SQL).
  app.addHook('preValidation', async (request) => {
    checkRequestStrings(request.params, 'params');
    checkRequestStrings(request.query, 'querystring');
  });
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(fastifyMultipart, {
    // files: 2, so that a second file part reaches multipart.ts and is refused by name.
    limits: { fileSize: options.uploadLimit, files: 2, fields: 20, fieldSize: 1024, parts: 30 },
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Couponflow API',
        version: '1',
        description: 'Coupon pools, distribution and conversations. See README.md for concepts.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    hideUntagged: false,
  });

  app.get('/health', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const health = await options.health();
    if (health.ok) return reply.send({ status: 'ok' });
    // The driver's text names hosts and ports: it goes to the log, never to an anonymous caller.
    request.log.warn({ detail: health.detail }, 'health check failed');
    return reply.status(503).send({ status: 'unavailable', ...errorBody('database_unavailable', 'The database is unavailable.') });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { config: { signInRedirect: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderDocsPage(app.swagger() as Parameters<typeof renderDocsPage>[0])),
  );
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    // Installation-wide figures: for the installation admin only.
    if (!options.metricsAllowed(request)) throw forbidden('Metrics need the installation admin token.');
    return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  return app;
}

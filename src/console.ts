import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { HttpApp } from './platform/http/app.ts';

/** Where `npm run build` puts the console (web/dist), from src/ and from dist/ alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The console's page may run only its own scripts. Mail shown in the Outbox is rendered in a
 * sandboxed iframe (srcdoc, no scripts, no same-origin), which inherits this policy: its remote
 * images may load, nothing else.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https: http:",
  "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Couponflow</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>Couponflow</h1><p>The server is running, but the web console has not been built in this copy.
Run <code>npm run build</code> (or <code>npm start</code>, which builds it when missing) and reload.</p>
<p>The REST API works meanwhile: <a href="/docs">API reference</a> (send your token), <a href="/health">health</a>.</p></body></html>`;

function secure(reply: FastifyReply) {
  return reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin');
}

/**
 * The web console (React, built by Vite into web/dist): `/` is its page, `/assets/*` its
 * content-hashed scripts and styles. Both are public (they hold no data); everything the console
 * shows comes from the same REST API, signed in by session cookie (POST /v1/session).
 */
export function consoleRoutes(app: HttpApp, options: { dir?: string | undefined } = {}) {
  const dir = options.dir ?? DEFAULT_CONSOLE_DIR;

  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => notBuilt);
    return secure(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });

  app.get('/assets/*', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    // Vite writes flat, content-hashed names: anything else (a path, "..") is simply not found.
    const type = TYPES[extname(name)];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || !type) return reply.callNotFound();
    const body = await readFile(join(dir, 'assets', name)).catch(() => undefined);
    if (!body) return reply.callNotFound();
    return secure(reply).type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });
}

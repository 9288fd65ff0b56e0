import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../platform/http/app.ts';
import type { UnsubscribeService } from './service.ts';

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style>
</head><body>${body}</body></html>`;

const params = z.object({ token: z.string().max(600) });

/**
 * The public unsubscribe link (no sign-in; the signed token is the proof). GET shows a page with a
 * button (a link scanner that follows GET unsubscribes nobody); POST unsubscribes at once, from
 * that button or from a mail client's RFC 8058 one-click (`List-Unsubscribe=One-Click`, form body).
 */
export async function unsubscribeRoutes(app: HttpApp, unsubscribe: UnsubscribeService): Promise<void> {
  await app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // Only here: a form body (RFC 8058 posts application/x-www-form-urlencoded); its content is not needed.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) =>
      done(null, String(body)),
    );

    scope.get(
      '/u/:token',
      {
        config: { public: true },
        schema: { tags: ['unsubscribe'], summary: 'The unsubscribe page of a signed link (HTML, no sign-in)', params },
      },
      async (request, reply) => {
        const p = await unsubscribe.page(request.params.token);
        const html = p.unsubscribed
          ? page(
              'Unsubscribed',
              `<h1>You are unsubscribed</h1><p>${escape(p.email)} gets no more marketing email from ${escape(p.accountName)}.</p>`,
            )
          : page(
              'Unsubscribe',
              `<h1>Unsubscribe</h1><p>Stop marketing email from <strong>${escape(p.accountName)}</strong> to ${escape(p.email)}?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
            );
        return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
      },
    );

    scope.post(
      '/u/:token',
      {
        config: { public: true },
        schema: { tags: ['unsubscribe'], summary: "Unsubscribe at once (RFC 8058 one-click; also the page's button)", params },
      },
      async (request, reply) => {
        const done = await unsubscribe.unsubscribe(request.params.token);
        const html = page(
          'Unsubscribed',
          `<h1>You are unsubscribed</h1><p>${escape(done.email)} gets no more marketing email from ${escape(done.accountName)}.</p>`,
        );
        return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
      },
    );
  });
}

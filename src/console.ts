import type { HttpApp } from './platform/http/app.ts';

/** Until the console lands, `/` tells a visitor where things are. */
export function consolePlaceholder(app: HttpApp) {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Couponflow</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>Couponflow</h1><p>The server is running. The web console is on its way; meanwhile everything is
available over the REST API with the admin token printed at first start.</p>
<ul><li><a href="/docs">API reference</a> and <a href="/openapi.json">OpenAPI document</a> (send your token)</li>
<li><a href="/health">Health</a></li></ul></body></html>`),
  );
}

/** A plain, dependency-free reference page rendered from the OpenAPI document. */
interface OpenApiDoc {
  info?: { title?: string; version?: string; description?: string };
  paths?: Record<
    string,
    Record<string, { summary?: string; description?: string; tags?: string[]; requestBody?: unknown; parameters?: unknown[] }>
  >;
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Escaped text with its `code spans` shown as code (OpenAPI texts are Markdown). */
const prose = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

export function renderDocsPage(doc: OpenApiDoc): string {
  const rows: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(operations)) {
      const body = op.requestBody
        ? `<details><summary>request body</summary><pre>${escape(JSON.stringify(op.requestBody, null, 2))}</pre></details>`
        : '';
      const params = op.parameters?.length
        ? `<details><summary>parameters</summary><pre>${escape(JSON.stringify(op.parameters, null, 2))}</pre></details>`
        : '';
      rows.push(
        `<section><h3><code class="m">${method.toUpperCase()}</code> <code>${escape(path)}</code></h3>` +
          `<p>${prose(op.summary ?? op.description ?? '')}</p>${op.summary && op.description ? `<p class="d">${prose(op.description)}</p>` : ''}${params}${body}</section>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info?.title ?? 'API')} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
code.m{background:#1d4ed8;color:#fff;padding:0 .4em;border-radius:3px}section{border-top:1px solid #ddd;padding:.5rem 0}
pre{background:#f5f6f8;padding:.75rem;overflow:auto}</style></head><body>
<h1>${escape(doc.info?.title ?? 'API')} <small>${escape(doc.info?.version ?? '')}</small></h1>
<p>${escape(doc.info?.description ?? '')}</p>
<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>. Every call takes
<code>Authorization: Bearer &lt;token&gt;</code>; errors are <code>{"error": {"code", "message", "details"}}</code>.</p>
${rows.join('\n')}</body></html>`;
}

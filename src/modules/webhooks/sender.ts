import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isRefusedLiteral } from './ssrf.ts';

/** `Couponflow-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (the receiver recomputes it). */
export function signature(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

export interface PostResult {
  /** The receiver's status; null when there was no answer (refused target, timeout, connection error). */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/**
 * One signed POST, outside any transaction. Only http(s); the address is resolved and checked at
 * connection time (guardedLookup); redirects are not followed (a 3xx is a failure). The answer's
 * body is read and dropped (at most 1 KB kept for the log).
 */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { allowPrivate: boolean; timeoutMs: number },
): Promise<PostResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): PostResult => ({
    statusCode,
    latencyMs: Math.round(performance.now() - started),
    error,
  });
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve(done(null, 'not a URL'));
    }
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!client) return resolve(done(null, 'only http and https URLs are delivered to'));
    // An IP literal never goes through `lookup`: checked here.
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && isRefusedLiteral(literal, options.allowPrivate))
      return resolve(done(null, `${literal} is a loopback, link-local or private address (set WEBHOOKS_ALLOW_PRIVATE=true to allow)`));
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Couponflow-Webhooks/1',
          ...headers,
        },
        lookup: guardedLookup(options.allowPrivate) as never,
        timeout: options.timeoutMs,
        agent: false,
      },
      (response) => {
        let kept = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (kept.length < 1024) kept += chunk.slice(0, 1024 - kept.length);
        });
        response.on('error', (err) => resolve(done(response.statusCode ?? null, err.message)));
        response.on('end', () => {
          const status = response.statusCode ?? null;
          const ok = status !== null && status >= 200 && status < 300;
          resolve(done(status, ok ? null : `HTTP ${status}${kept ? `: ${kept}` : ''}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (err) => resolve(done(null, err.message)));
    request.end(body);
  });
}

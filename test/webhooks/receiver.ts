import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: string;
  signature: string;
  events: { id: string; type: string; createdAt: string; data: Record<string, unknown> }[];
}

/**
 * A real HTTP receiver on 127.0.0.1 for the outgoing-webhook suites: records every POST and answers
 * with the status `respond` picks (or, returning null, no answer at all: the socket stays open).
 */
export async function startReceiver(respond: (n: number, r: Received) => number | null = () => 200) {
  const posts: Received[] = [];
  const accepted: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r: Received = { body, signature: String(req.headers['couponflow-signature'] ?? ''), events: JSON.parse(body) };
      posts.push(r);
      const status = respond(posts.length, r);
      if (status === null) return;
      if (status >= 200 && status < 300) accepted.push(r);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try again later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/couponflow`,
    posts,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a receiver does with Couponflow-Signature: recompute the HMAC of "t.body" with the secret. */
export function verifySignature(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Outgoing webhooks: the contract the API and the console share. Pure: no I/O. */
import { z } from 'zod';

export const WEBHOOK_EVENTS = ['pool.low', 'pool.exhausted', 'code.assigned', 'code.redeemed', 'contact.unsubscribed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const webhookInput = z.object({
  url: z.string().trim().min(1).max(2000).describe('http(s) URL that receives the POSTs'),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  secret: z.string().min(16).max(200).optional().describe('signing secret; generated when absent (shown once)'),
});
export type WebhookInput = z.infer<typeof webhookInput>;

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: Date;
}

/** One POST to a webhook, as logged: its answer (or why none), its latency, the events it carried. */
export interface WebhookAttempt {
  id: string;
  at: Date;
  statusCode: number | null;
  latencyMs: number;
  eventIds: string[];
  outcome: 'delivered' | 'retrying' | 'failed';
  error: string | null;
}

/**
 * What the receiver gets: a JSON array of these per POST (batched), each with its own id for the
 * receiver's dedup (delivery is at-least-once).
 */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** Why a URL is refused before anything is sent to it; null when it may be used. */
export function urlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials';
  return null;
}

const v4 = (ip: string): number[] | null => {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.map(Number);
};

/**
 * Loopback, link-local, private, shared, multicast and reserved addresses (IPv4, IPv6 and IPv4
 * mapped into IPv6): where a webhook must not point unless WEBHOOKS_ALLOW_PRIVATE=true (SSRF).
 */
export function isPrivateAddress(ip: string): boolean {
  const a = v4(ip);
  if (a) {
    const [x, y] = a as [number, number, number, number];
    return (
      x === 0 ||
      x === 10 ||
      x === 127 ||
      x >= 224 ||
      (x === 100 && y >= 64 && y <= 127) ||
      (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      (x === 192 && y === 0 && a[2] === 0) ||
      (x === 198 && (y === 18 || y === 19))
    );
  }
  const s = ip
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .split('%')[0]!;
  if (s === '::' || s === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return isPrivateAddress(mapped[1]!);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(s)) return true; // mapped, hex form: refuse rather than decode
  const first = parseInt(s.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}

/**
 * Unsubscribe links: `<contact id>.<signature>`; the signature is HMAC-SHA256 (first 24
 * bytes, base64url) with the installation's secret over account and contact. The account is the
 * contact's (contact ids are unique across accounts), so the link stays short (path parameters
 * are bounded at 100 characters) while a link signed for one account never works for another.
 * Pure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_BYTES = 24;
const signature = (secret: string, accountId: string, contactId: string) =>
  createHmac('sha256', secret).update(`unsubscribe\n${accountId}\n${contactId}`).digest().subarray(0, SIGNATURE_BYTES);

export function unsubscribeToken(secret: string, accountId: string, contactId: string): string {
  return `${contactId}.${signature(secret, accountId, contactId).toString('base64url')}`;
}

/** The contact a token names and the signature it carries, if it has the shape of one. */
export function parseUnsubscribeToken(token: string): { contactId: string; signature: string } | null {
  const m = /^([A-Za-z0-9-]{1,64})\.([A-Za-z0-9_-]{32})$/.exec(token);
  return m ? { contactId: m[1]!, signature: m[2]! } : null;
}

/** Is this the signature we give that contact of that account? (Constant time.) */
export function signatureMatches(secret: string, accountId: string, contactId: string, given: string): boolean {
  const expected = signature(secret, accountId, contactId);
  const bytes = Buffer.from(given, 'base64url');
  // Non-canonical base64url (other trailing bits) would be a second spelling of the same link.
  if (bytes.toString('base64url') !== given) return false;
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/** The link as it appears in mail: PUBLIC_URL (or the local default) + /u/<token>. */
export const unsubscribeUrl = (baseUrl: string, token: string): string => `${baseUrl.replace(/\/+$/, '')}/u/${token}`;

/** The footer added to a message whose template does not place `{{ unsubscribe_url }}` itself. */
export function withFooter(body: { html: string; text: string | null }, url: string): { html: string; text: string | null } {
  const escaped = url.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
  const footer = `<p style="font-size:12px;color:#666">Don't want these emails? <a href="${escaped}">Unsubscribe</a>.</p>`;
  const close = body.html.toLowerCase().lastIndexOf('</body>');
  const html = close >= 0 ? `${body.html.slice(0, close)}${footer}${body.html.slice(close)}` : `${body.html}\n${footer}`;
  const text = body.text === null ? null : `${body.text}\n\n--\nUnsubscribe: ${url}\n`;
  return { html, text };
}

/** Does this template place the link itself? */
export const placesUnsubscribeUrl = (source: string): boolean => /\{\{-?\s*unsubscribe_url\b/.test(source);

/** The headers of a marketing mail (RFC 2369, RFC 8058 one-click). */
export const unsubscribeHeaders = (url: string): Record<string, string> => ({
  'List-Unsubscribe': `<${url}>`,
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
});

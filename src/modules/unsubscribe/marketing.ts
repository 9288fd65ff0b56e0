/**
 * What makes a conductor message a marketing mail, for a whole batch at once: the
 * suppressed addresses among its recipients (one lookup), each contact's signed unsubscribe link
 * (`{{ unsubscribe_url }}`), the footer added to a body whose template does not place the link,
 * and the List-Unsubscribe headers.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { RenderedMessage } from '../messages/template.ts';
import { placesUnsubscribeUrl, unsubscribeHeaders, withFooter } from './token.ts';

export interface MarketingRules {
  suppressedAmong(tx: Kysely<DB>, accountId: string, emails: readonly string[]): Promise<Set<string>>;
  linkMaker(tx: Kysely<DB>): Promise<(accountId: string, contactId: string) => string>;
}

export interface MarketingBatch {
  suppressed(email: string): boolean;
  link(contactId: string): string | null;
  finish(rendered: RenderedMessage, url: string | null): RenderedMessage;
  headers(url: string | null): Record<string, string> | null;
}

const none: MarketingBatch = { suppressed: () => false, link: () => null, finish: (r) => r, headers: () => null };

export async function marketingMail(
  rules: MarketingRules | undefined,
  tx: Kysely<DB>,
  accountId: string,
  message: { html: string; text: string | null },
  emails: readonly (string | undefined)[],
): Promise<MarketingBatch> {
  if (!rules) return none;
  const suppressed = await rules.suppressedAmong(
    tx,
    accountId,
    emails.filter((e): e is string => e !== undefined),
  );
  const make = await rules.linkMaker(tx);
  const footerInHtml = !placesUnsubscribeUrl(message.html);
  const footerInText = message.text !== null && !placesUnsubscribeUrl(message.text);
  return {
    suppressed: (email) => suppressed.has(email.trim().toLowerCase()),
    link: (contactId) => make(accountId, contactId),
    finish(rendered, url) {
      if (url === null || (!footerInHtml && !footerInText)) return rendered;
      const footed = withFooter({ html: rendered.html, text: rendered.text }, url);
      return {
        subject: rendered.subject,
        html: footerInHtml ? footed.html : rendered.html,
        text: footerInText ? footed.text! : rendered.text,
      };
    },
    headers: (url) => (url === null ? null : unsubscribeHeaders(url)),
  };
}

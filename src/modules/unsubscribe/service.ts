import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import type { Kysely } from 'kysely';
import type { InstallationSecret } from '../../platform/secret.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { SuppressionsService } from '../suppressions/service.ts';
import * as repo from './repo.ts';
import { parseUnsubscribeToken, signatureMatches, unsubscribeToken, unsubscribeUrl } from './token.ts';

const refused = () => new DomainError('not_found', 'invalid_link', 'This unsubscribe link is not valid.');

/** Signed unsubscribe links, and what following one does (no sign-in: the signature is the proof). */
export function unsubscribeService(deps: {
  database: AppDatabase;
  clock: Clock;
  secret: InstallationSecret;
  /** PUBLIC_URL, or where this server answers. */
  baseUrl: string;
  accounts: AccountsService;
  suppressions: SuppressionsService;
  /** The contact went from subscribed to unsubscribed, in that transaction (contact.unsubscribed webhooks). */
  onUnsubscribed?: (tx: Kysely<DB>, accountId: string, contact: { id: string; email: string }) => Promise<void>;
}) {
  const { db } = deps.database;

  /** A link maker for a batch (inside its transaction `tx`, if any): the secret is read once. */
  async function linkMaker(tx?: Kysely<DB>): Promise<(accountId: string, contactId: string) => string> {
    const secret = tx ? await deps.secret.within(tx) : await deps.secret.get();
    return (accountId, contactId) => unsubscribeUrl(deps.baseUrl, unsubscribeToken(secret, accountId, contactId));
  }

  async function resolve(token: string) {
    const named = parseUnsubscribeToken(token);
    if (!named) throw refused();
    const secret = await deps.secret.get();
    const contact = await repo.findContact(db, named.contactId);
    if (!contact || !signatureMatches(secret, contact.account_id, contact.id, named.signature)) throw refused();
    const account = await deps.accounts.getAccount(contact.account_id);
    return { accountId: contact.account_id, accountName: account.name, contact };
  }

  /** What the page shows: whose list, and whether the address is still on it. */
  async function page(token: string): Promise<{ accountName: string; email: string; unsubscribed: boolean }> {
    const r = await resolve(token);
    return { accountName: r.accountName, email: r.contact.email, unsubscribed: r.contact.status === 'unsubscribed' };
  }

  /**
   * One transaction: the contact becomes `unsubscribed`, its address is suppressed and its active
   * runs end (reason `unsubscribed`). Following the link again changes nothing more.
   */
  async function unsubscribe(token: string): Promise<{ accountName: string; email: string; endedRuns: number }> {
    const r = await resolve(token);
    const now = deps.clock.now();
    const endedRuns = await db.transaction().execute(async (tx) => {
      if (await repo.setUnsubscribed(tx, r.accountId, r.contact.id, now))
        await deps.onUnsubscribed?.(tx, r.accountId, { id: r.contact.id, email: r.contact.email });
      await deps.suppressions.suppressWithin(tx, r.accountId, r.contact.email, 'unsubscribed');
      return repo.endRuns(tx, r.accountId, r.contact.id, 'unsubscribed', now);
    });
    return { accountName: r.accountName, email: r.contact.email, endedRuns };
  }

  return { linkMaker, page, unsubscribe };
}

export type UnsubscribeService = ReturnType<typeof unsubscribeService>;

import type { App } from '../../src/app.ts';
import type { Role } from '../../src/modules/accounts/permissions.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

export const HOST = 'console.example.com';
export const ORIGIN = `http://${HOST}`;
export const PASSWORD = 'correct horse battery';

/** The one-time link's token from the newest access mail to `to` (read through the service, as an owner). */
export async function linkTokenFor(app: App, accountId: string, to: string): Promise<string> {
  const page = await app.services.outbox.listMails(ownerPrincipal(accountId), { limit: 10, to, kind: 'access' });
  const mail = page.items[0];
  if (!mail) throw new Error(`no access mail to ${to}`);
  const match = /#\/set-password\/([A-Za-z0-9_%-]+)/.exec(mail.text ?? mail.html);
  if (!match?.[1]) throw new Error('no link in the mail');
  return decodeURIComponent(match[1]);
}

export const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;

/** Signs in by email and password; the cookie, or throws with the answer. */
export async function passwordSignIn(app: App, email: string, password = PASSWORD, remoteAddress = '127.0.0.1') {
  const res = await app.http.inject({
    method: 'POST',
    url: '/v1/session',
    headers: { host: HOST, origin: ORIGIN },
    payload: { email, password },
    remoteAddress,
  });
  if (res.statusCode !== 201) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  return cookieOf(res);
}

/** A user of `role` in the account, invited, with the password set through the mailed link. */
export async function activeUser(app: App, accountId: string, role: Role, merchantIds?: string[]) {
  const email = `${role}-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const user = await app.services.users.invite(ownerPrincipal(accountId), { email, role, ...(merchantIds && { merchantIds }) });
  await app.services.users.setPassword(await linkTokenFor(app, accountId, email), PASSWORD);
  return { ...user, email };
}

/** Headers of a signed-in console call (the Origin every change needs). */
export const sessionHeaders = (cookie: string) => ({ host: HOST, origin: ORIGIN, cookie });

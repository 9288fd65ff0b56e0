import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { DomainError, forbidden, invalid, notFound } from '../../platform/errors.ts';
import { hashToken, newId, newToken } from '../../platform/ids.ts';
import { decodeCursor, toPage, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { Role } from '../accounts/permissions.ts';
import type { Principal } from '../accounts/principal.ts';
import { canUseMerchant } from '../accounts/model.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { NewSession, SessionsService } from '../accounts/sessions.ts';
import { noteAudit } from '../audit/service.ts';
import type { NewMail } from '../outbox/model.ts';
import { INVITE_TTL_MS, passwordLinkUrl, passwordProblem, RESET_TTL_MS, type UserView } from './model.ts';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import * as repo from './repo.ts';
import { FailureThrottle } from './throttle.ts';

export interface UsersDeps {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  sessions: SessionsService;
  /** Writes mail into the outbox, in the caller's transaction. */
  enqueueMail: (tx: Kysely<DB>, mails: NewMail[]) => Promise<string[]>;
  from: { name: string; email: string };
  /** PUBLIC_URL (or the local address): where links point. */
  baseUrl: string;
}

const toView = (u: repo.UserRow): UserView => ({
  id: u.id,
  email: u.email,
  role: u.role,
  merchantIds: u.merchant_ids,
  status: u.status,
  createdAt: u.created_at.toISOString(),
});

const emailTaken = () => new DomainError('conflict', 'email_taken', 'A user with this email address exists already.');
const linkInvalid = () =>
  new DomainError('not_found', 'link_invalid', 'This link is not valid: it was used already, it expired, or it never existed.');

/**
 * Users: invited by email, who set a password through a one-time link and sign in to
 * the console with email and password. Passwords: scrypt (passwords.ts); links: random tokens
 * stored as their SHA-256, single use (one UPDATE … WHERE used_at IS NULL decides).
 */
export function usersService(deps: UsersDeps) {
  const { db } = deps.database;
  const throttle = new FailureThrottle(deps.clock);

  /** A limited caller gives only merchants it has itself, and never "every merchant". */
  async function checkMerchants(principal: Principal, merchantIds: string[] | null): Promise<string[] | null> {
    const list = merchantIds?.length ? [...new Set(merchantIds)] : null;
    if (principal.merchantIds !== null && list === null)
      throw forbidden('A caller limited to some merchants can only give access to some of them.');
    for (const m of list ?? []) {
      if (!canUseMerchant(principal, m)) throw forbidden('You are limited to other merchants.');
      await deps.accounts.getMerchant(principal, m);
    }
    return list;
  }

  function linkMail(accountId: string, to: string, purpose: 'invite' | 'reset', token: string): NewMail {
    const url = passwordLinkUrl(deps.baseUrl, token);
    const invite = purpose === 'invite';
    const subject = invite ? 'You are invited to Couponflow' : 'Reset your Couponflow password';
    const lead = invite
      ? 'You have been invited to a Couponflow team. Set your password within 7 days:'
      : 'Set a new password within an hour:';
    const tail = invite ? '' : ' If you did not ask for this, ignore this mail: your password stays as it is.';
    return {
      accountId,
      merchantId: null,
      kind: 'access',
      to,
      from: deps.from,
      subject,
      html: `<p>${lead}</p><p><a href="${url}">${url}</a></p><p>The link works once.${tail}</p>`,
      text: `${lead}\n\n${url}\n\nThe link works once.${tail}\n`,
    };
  }

  async function writeLink(tx: Kysely<DB>, user: { id: string; accountId: string; email: string }, purpose: 'invite' | 'reset') {
    const token = newToken();
    const now = deps.clock.now();
    await repo.insertLink(tx, {
      tokenHash: hashToken(token),
      userId: user.id,
      purpose,
      createdAt: now,
      expiresAt: new Date(now.getTime() + (purpose === 'invite' ? INVITE_TTL_MS : RESET_TTL_MS)),
    });
    await deps.enqueueMail(tx, [linkMail(user.accountId, user.email, purpose, token)]);
    return token;
  }

  /** POST /v1/users: the user, the invitation link and its mail, in one transaction. */
  async function invite(principal: Principal, input: { email: string; role: Role; merchantIds?: string[] | undefined }): Promise<UserView> {
    const merchantIds = await checkMerchants(principal, input.merchantIds ?? null);
    const id = newId();
    noteAudit({
      resourceId: id,
      summary: `user.invite: role ${input.role}${merchantIds ? `, limited to ${merchantIds.length} merchant(s)` : ''}`,
    });
    try {
      await db.transaction().execute(async (tx) => {
        await repo.insertUser(tx, { id, accountId: principal.accountId, email: input.email, role: input.role, merchantIds });
        await writeLink(tx, { id, accountId: principal.accountId, email: input.email }, 'invite');
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw emailTaken();
      throw err;
    }
    const user = await repo.findUser(db, principal.accountId, id);
    if (!user) throw new Error('user vanished after insert');
    return toView(user);
  }

  /** First start: the owner, with a link to set their password (printed, not mailed). */
  async function bootstrapOwner(accountId: string, email: string, baseUrl = deps.baseUrl): Promise<{ url: string } | { exists: true }> {
    if (await repo.findUserByEmail(db, email)) return { exists: true };
    const id = newId();
    const token = newToken();
    const now = deps.clock.now();
    await db.transaction().execute(async (tx) => {
      await repo.insertUser(tx, { id, accountId, email, role: 'owner', merchantIds: null });
      await repo.insertLink(tx, {
        tokenHash: hashToken(token),
        userId: id,
        purpose: 'invite',
        createdAt: now,
        expiresAt: new Date(now.getTime() + INVITE_TTL_MS),
      });
    });
    return { url: passwordLinkUrl(baseUrl, token) };
  }

  const unlimitedOnly = (principal: Principal, what: string) => {
    if (principal.merchantIds !== null) throw forbidden(`A caller limited to some merchants cannot ${what}.`);
  };

  async function list(principal: Principal, page: PageQuery) {
    unlimitedOnly(principal, 'list users');
    const rows = await repo.listUsers(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    return toPage(rows.map(toView), page.limit, (u) => u.id);
  }

  /** PATCH /v1/users/{id}: role and merchants; the user's sessions act with them from the next request. */
  async function update(principal: Principal, id: string, change: { role?: Role | undefined; merchantIds?: string[] | null | undefined }) {
    unlimitedOnly(principal, 'change users');
    const merchantIds = change.merchantIds === undefined ? undefined : await checkMerchants(principal, change.merchantIds);
    const parts = [
      change.role && `role ${change.role}`,
      merchantIds !== undefined && (merchantIds ? `limited to ${merchantIds.length} merchant(s)` : 'every merchant'),
    ];
    noteAudit({ summary: `user.update: ${parts.filter(Boolean).join(', ')}` });
    const row = await repo.updateUser(db, principal.accountId, id, { role: change.role, merchantIds }, deps.clock.now());
    if (!row) throw notFound('user');
    return toView(row);
  }

  /** DELETE /v1/users/{id}: their sessions end at once (cascade); their audit entries stay. */
  async function remove(principal: Principal, id: string): Promise<void> {
    unlimitedOnly(principal, 'remove users');
    if (principal.userId === id) throw new DomainError('conflict', 'cannot_remove_self', 'You cannot remove yourself; ask another owner.');
    if (!(await repo.deleteUser(db, principal.accountId, id))) throw notFound('user');
  }

  /** What the set-password page shows before the password is chosen (the link stays unused). */
  async function inspectLink(token: string) {
    const link = await repo.findLiveLink(db, hashToken(token), deps.clock.now());
    if (!link) throw linkInvalid();
    return { email: link.email, purpose: link.purpose, expiresAt: link.expires_at.toISOString() };
  }

  /** The link's page sets the password: checked, hashed off the event loop, then the link is used in one transaction. */
  async function setPassword(token: string, password: string): Promise<void> {
    const hash = hashToken(token);
    const link = await repo.findLiveLink(db, hash, deps.clock.now());
    if (!link) throw linkInvalid();
    const problem = passwordProblem(password, link.email);
    if (problem) throw invalid(`password: ${problem}`, [{ field: 'password', message: problem }]);
    const passwordHash = await hashPassword(password);
    await db.transaction().execute(async (tx) => {
      const now = deps.clock.now();
      const used = await repo.consumeLink(tx, hash, now);
      if (!used) throw linkInvalid();
      await repo.setPassword(tx, used.user_id, passwordHash, now);
      if (used.purpose === 'reset') await repo.endSessions(tx, used.user_id);
    });
  }

  /**
   * POST /v1/password-resets: a reset link by mail, if the address is a user's. The answer is the
   * same either way (no way to learn who has an account).
   */
  async function requestReset(email: string): Promise<void> {
    const user = await repo.findUserByEmail(db, email);
    if (!user) return;
    await db.transaction().execute((tx) => writeLink(tx, { id: user.id, accountId: user.account_id, email: user.email }, 'reset'));
  }

  /**
   * Sign-in with email and password. Throttled per address and per client address (throttle.ts):
   * 429 before the password is even checked. An unknown address costs one scrypt as well.
   */
  async function signIn(email: string, password: string, client: string): Promise<NewSession> {
    const address = `address:${email.trim().toLowerCase()}`;
    const keys = [address, `client:${client}`];
    const wait = throttle.retryAfterMs(keys);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new DomainError('too_many', 'too_many_attempts', `Too many failed sign-ins; try again in ${Math.ceil(seconds / 60)} min.`, [
        { retryAfterSeconds: seconds },
      ]);
    }
    const user = await repo.findUserByEmail(db, email.trim());
    const ok = user?.password_hash
      ? await verifyPassword(password, user.password_hash)
      : (await verifyPassword(password, await dummyHash()), false);
    if (!user || !ok) {
      throw fail(keys);
    }
    throttle.succeed(address);
    return deps.sessions.start({
      accountId: user.account_id,
      tokenId: null,
      userId: user.id,
      merchantIds: user.merchant_ids,
      installationAdmin: false,
      role: user.role,
      actor: { type: 'user', id: user.id, name: user.email },
    });
  }

  function fail(keys: string[]) {
    throttle.fail(keys);
    return new DomainError('unauthorized', 'unauthorized', 'This email address and password do not match.');
  }

  return { invite, bootstrapOwner, list, update, remove, inspectLink, setPassword, requestReset, signIn, throttle };
}

export type UsersService = ReturnType<typeof usersService>;

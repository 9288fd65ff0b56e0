import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from './principal.ts';
import { hashToken } from '../../platform/ids.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { principalOfToken } from './model.ts';
import type { AccountsService } from './service.ts';

/** How long a console sign-in lasts (absolute, not sliding). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface NewSession {
  /** The cookie's value, in clear: given to the browser once, stored only as its SHA-256. */
  id: string;
  principal: Principal;
  expiresAt: Date;
}

type Q = Kysely<DB>;

async function insertSession(
  db: Q,
  row: { idHash: string; accountId: string; tokenId: string | null; userId: string | null; createdAt: Date; expiresAt: Date },
) {
  await db
    .insertInto('console_sessions')
    .values({
      id_hash: row.idHash,
      account_id: row.accountId,
      token_id: row.tokenId,
      user_id: row.userId,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute();
}

/**
 * The session's token or user, read afresh at every request: a token or user limited, given
 * another role or removed since sign-in changes or ends the session at once (removal cascades).
 */
async function findLiveSession(db: Q, idHash: string, now: Date) {
  return db
    .selectFrom('console_sessions as s')
    .leftJoin('tokens as t', 't.id', 's.token_id')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.account_id',
      't.id as token_id',
      't.name as token_name',
      't.role as token_role',
      't.merchant_ids as token_merchant_ids',
      't.installation_admin',
      'u.id as user_id',
      'u.email as user_email',
      'u.role as user_role',
      'u.merchant_ids as user_merchant_ids',
    ])
    .where('s.id_hash', '=', idHash)
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
}

type SessionRow = NonNullable<Awaited<ReturnType<typeof findLiveSession>>>;

function principalOfSession(row: SessionRow): Principal | undefined {
  if (row.token_id && row.token_role && row.token_name !== null) {
    return principalOfToken({
      id: row.token_id,
      accountId: row.account_id,
      name: row.token_name,
      role: row.token_role,
      merchantIds: row.token_merchant_ids,
      installationAdmin: row.installation_admin === true,
    });
  }
  if (row.user_id && row.user_role && row.user_email) {
    return {
      accountId: row.account_id,
      tokenId: null,
      userId: row.user_id,
      merchantIds: row.user_merchant_ids,
      installationAdmin: false,
      role: row.user_role,
      actor: { type: 'user', id: row.user_id, name: row.user_email },
    };
  }
  return undefined;
}

/** Sign-in by token: failed tries per client before it is refused (429), and the window. */
export const SIGN_IN_MAX_FAILURES = 10;
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
/** Clients remembered at most (memory stays bounded under a spray of addresses). */
const MAX_CLIENTS = 100_000;

/**
 * Failed sign-ins per client (its address), in this process: after `maxFailures` within
 * `windowMs` of the first one, the client is refused until that window ends. Fixed windows, in
 * memory: with N processes behind a balancer a client gets up to N times the tries.
 */
export class SignInLimiter {
  private readonly clients = new Map<string, { since: number; failures: number }>();

  constructor(
    private readonly clock: Clock,
    readonly maxFailures = SIGN_IN_MAX_FAILURES,
    readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** Milliseconds until `client` may try again, or 0. */
  retryAfterMs(client: string): number {
    const entry = this.live(client);
    if (!entry || entry.failures < this.maxFailures) return 0;
    return entry.since + this.windowMs - this.clock.now().getTime();
  }

  fail(client: string): void {
    const entry = this.live(client);
    if (entry) entry.failures++;
    else {
      if (this.clients.size >= MAX_CLIENTS) this.sweep();
      this.clients.set(client, { since: this.clock.now().getTime(), failures: 1 });
    }
  }

  private live(client: string) {
    const entry = this.clients.get(client);
    if (entry && entry.since + this.windowMs <= this.clock.now().getTime()) {
      this.clients.delete(client);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.clock.now().getTime();
    for (const [client, entry] of this.clients) if (entry.since + this.windowMs <= now) this.clients.delete(client);
    if (this.clients.size >= MAX_CLIENTS) this.clients.clear();
  }
}

/**
 * Console sign-in. Server-side sessions (not signed cookies): signing out deletes the row, so a
 * copied cookie stops working at once, and no signing secret has to be configured and shared by
 * every process.
 */
export function sessionsService(deps: {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  maxFailures?: number | undefined;
}) {
  const { db } = deps.database;
  const signInLimiter = new SignInLimiter(deps.clock, deps.maxFailures ?? SIGN_IN_MAX_FAILURES);

  /** Exchanges a valid API token for a new session; undefined for a token that is not valid. */
  async function signIn(token: string): Promise<NewSession | undefined> {
    const principal = await deps.accounts.authenticate(token);
    if (!principal) return undefined;
    return start(principal);
  }

  /** A session for a caller already proven (a token, or a user's password: users/service.ts). */
  async function start(principal: Principal): Promise<NewSession> {
    const now = deps.clock.now();
    const id = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await db.transaction().execute(async (tx) => {
      // Housekeeping: this account's expired sessions go when a new one starts.
      await tx.deleteFrom('console_sessions').where('account_id', '=', principal.accountId).where('expires_at', '<=', now).execute();
      await insertSession(tx, {
        idHash: hashToken(id),
        accountId: principal.accountId,
        tokenId: principal.userId ? null : principal.tokenId,
        userId: principal.userId,
        createdAt: now,
        expiresAt,
      });
    });
    return { id, principal, expiresAt };
  }

  async function resolve(sessionId: string): Promise<Principal | undefined> {
    const row = await findLiveSession(db, hashToken(sessionId), deps.clock.now());
    return row && principalOfSession(row);
  }

  async function signOut(sessionId: string): Promise<void> {
    await db.deleteFrom('console_sessions').where('id_hash', '=', hashToken(sessionId)).execute();
  }

  return { signIn, start, resolve, signOut, signInLimiter };
}

export type SessionsService = ReturnType<typeof sessionsService>;

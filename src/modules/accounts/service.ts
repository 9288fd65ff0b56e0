import { lockBootstrap } from './accounts.sql.ts';
import { DomainError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from './principal.ts';
import type { Role } from './permissions.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import { outsideUnitOfWork } from '../../platform/db/unit-of-work.ts';
import { hashToken, newId, newToken } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import { canUseMerchant, principalOfToken, type Account, type Merchant } from './model.ts';
import * as repo from './repo.ts';

export interface NewAccount {
  name: string;
  timeZone?: string | undefined;
}

export interface ProvisionedAccount {
  account: Account;
  /** The account's admin token, in clear: shown once, never stored. */
  token: string;
}

/** How long a valid token is trusted without asking the database again (see authenticate). */
export const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_ENTRIES = 10_000;

/** lastUsedAt is written at most this often per token. */
export const LAST_USED_EVERY_MS = 60_000;

export function accountsService(database: AppDatabase, clock: Clock = systemClock) {
  const { db } = database;

  /**
   * Valid tokens, by hash, for AUTH_CACHE_MS: the token lookup was one database round trip on every
   * request. The trade-off: a token removed from the database (by another process, or by hand) is
   * still honoured for up to that long by a process that saw it recently (the process that revokes
   * it forgets it at once). Unknown tokens are never cached (a new token works at once). Bounded:
   * cleared whole when full.
   */
  const authCache = new Map<string, { principal: Principal; until: number }>();
  /** When this process last wrote each token's lastUsedAt. */
  const touched = new Map<string, number>();

  async function authenticate(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    const now = clock.now().getTime();
    const hit = authCache.get(hash);
    let principal: Principal | undefined;
    if (hit && hit.until > now) principal = hit.principal;
    else {
      const found = await repo.findTokenByHash(db, hash);
      principal = found && principalOfToken(found);
      if (principal) {
        if (authCache.size >= AUTH_CACHE_ENTRIES) authCache.clear();
        authCache.set(hash, { principal, until: now + AUTH_CACHE_MS });
      } else {
        authCache.delete(hash);
      }
    }
    if (principal?.tokenId) touch(principal.tokenId, now);
    return principal;
  }

  /**
   * lastUsedAt, at most once a minute per token: this process skips the write within the minute,
   * and the statement itself skips it when another process wrote it within the minute. Not
   * awaited, and outside the call's unit of work (never in its audit entry's transaction).
   */
  function touch(tokenId: string, now: number) {
    const last = touched.get(tokenId);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return;
    if (touched.size >= AUTH_CACHE_ENTRIES) touched.clear();
    touched.set(tokenId, now);
    void outsideUnitOfWork(() => repo.touchToken(db, tokenId, new Date(now))).catch(() => touched.delete(tokenId));
  }

  async function provision(input: NewAccount & { installationAdmin: boolean; token?: string | undefined }): Promise<ProvisionedAccount> {
    const id = newId();
    const token = input.token ?? newToken();
    const timeZone = input.timeZone ?? 'UTC';
    await db.transaction().execute(async (tx) => {
      await repo.insertAccount(tx, { id, name: input.name, timeZone });
      await repo.insertToken(tx, {
        id: newId(),
        accountId: id,
        hash: hashToken(token),
        name: 'admin',
        merchantIds: null,
        installationAdmin: input.installationAdmin,
      });
    });
    const account = await repo.findAccount(db, id);
    if (!account) throw new Error('account vanished after insert');
    return { account, token };
  }

  /** POST /v1/accounts: only the installation admin opens new accounts. */
  async function createAccount(principal: Principal, input: NewAccount): Promise<ProvisionedAccount> {
    if (!principal.installationAdmin) throw forbidden('Only the installation admin token can create accounts.');
    return provision({ ...input, installationAdmin: false });
  }

  /** CLI `accounts create`: whoever can reach the database is trusted. */
  const createAccountFromCli = (input: NewAccount) => provision({ ...input, installationAdmin: false });

  /** CLI `token create`: `installationAdmin` mints a new installation admin token (recovery). */
  async function createToken(input: {
    accountId: string;
    merchantIds?: string[] | undefined;
    name?: string | undefined;
    installationAdmin?: boolean | undefined;
    role?: Role | undefined;
  }): Promise<string> {
    return (await insertTokenFor(input)).token;
  }

  async function insertTokenFor(input: {
    accountId: string;
    merchantIds?: string[] | undefined;
    name?: string | undefined;
    installationAdmin?: boolean | undefined;
    role?: Role | undefined;
  }): Promise<{ id: string; token: string }> {
    const account = await repo.findAccount(db, input.accountId);
    if (!account) throw notFound(`account ${input.accountId}`);
    for (const merchantId of input.merchantIds ?? []) {
      if (!(await repo.findMerchant(db, account.id, merchantId))) throw notFound(`merchant ${merchantId} in account ${account.id}`);
    }
    const token = newToken();
    const id = newId();
    await repo.insertToken(db, {
      id,
      accountId: account.id,
      hash: hashToken(token),
      name: input.name ?? 'cli',
      merchantIds: input.merchantIds?.length ? input.merchantIds : null,
      installationAdmin: input.installationAdmin === true && !input.merchantIds?.length,
      role: input.role ?? 'owner',
    });
    return { id, token };
  }

  /**
   * POST /v1/tokens. A token limited to some merchants can only mint tokens limited to some of
   * those; the installation admin right is never handed out through the API (the CLI recovers it).
   * Only owners reach this (tokens:write, permissions.ts), so any role may be given.
   */
  async function createApiToken(
    principal: Principal,
    input: { name: string; role?: Role | undefined; merchantIds?: string[] | undefined },
  ) {
    const merchantIds = input.merchantIds?.length ? [...new Set(input.merchantIds)] : undefined;
    if (principal.merchantIds !== null) {
      if (!merchantIds) throw forbidden('A token limited to some merchants can only create tokens limited to some of them.');
      for (const m of merchantIds) if (!canUseMerchant(principal, m)) throw forbidden('This token is limited to other merchants.');
    }
    const role = input.role ?? 'owner';
    const created = await insertTokenFor({ accountId: principal.accountId, merchantIds, name: input.name, role });
    return { id: created.id, name: input.name, role, merchantIds: merchantIds ?? null, token: created.token };
  }

  async function listTokens(principal: Principal, page: PageQuery) {
    if (principal.merchantIds !== null) throw forbidden('A token limited to some merchants cannot list tokens.');
    const rows = await repo.listTokens(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    return toPage(rows, page.limit, (t) => t.id);
  }

  /** DELETE /v1/tokens/{id}: this process forgets it at once; others within AUTH_CACHE_MS. */
  async function revokeToken(principal: Principal, tokenId: string): Promise<void> {
    if (principal.merchantIds !== null) throw forbidden('A token limited to some merchants cannot revoke tokens.');
    if (!(await repo.deleteToken(db, principal.accountId, tokenId))) throw notFound('token');
    for (const [hash, entry] of authCache) if (entry.principal.tokenId === tokenId) authCache.delete(hash);
  }

  /**
   * First start: one account, one merchant, one admin token (the installation admin). "First" means
   * no installation admin exists yet, even if `accounts create` ran before. An advisory lock makes
   * two processes starting together create them once.
   */
  async function bootstrap(options: {
    token?: string | undefined;
    timeZone: string;
  }): Promise<{ created: false } | ({ created: true; merchant: Merchant } & ProvisionedAccount)> {
    const token = options.token ?? newToken();
    return db.transaction().execute(async (tx) => {
      await lockBootstrap(tx);
      if (await repo.hasInstallationAdmin(tx)) return { created: false as const };
      const id = newId();
      await repo.insertAccount(tx, { id, name: 'My company', timeZone: options.timeZone });
      await repo.insertToken(tx, {
        id: newId(),
        accountId: id,
        hash: hashToken(token),
        name: 'admin',
        merchantIds: null,
        installationAdmin: true,
      });
      const merchant = await repo.insertMerchant(tx, id, { id: newId(), name: 'My shop', domain: 'shop.example.com' });
      const account = await repo.findAccount(tx, id);
      if (!account) throw new Error('account vanished after insert');
      return { created: true as const, account, token, merchant };
    });
  }

  async function getAccount(accountId: string): Promise<Account> {
    const account = await repo.findAccount(db, accountId);
    if (!account) throw notFound('account');
    return account;
  }

  /** The merchant, if it is this caller's to use; others' are "not found", never "forbidden". */
  async function getMerchant(principal: Principal, merchantId: string): Promise<Merchant> {
    const merchant = await repo.findMerchant(db, principal.accountId, merchantId);
    if (!merchant) throw notFound('merchant');
    if (!canUseMerchant(principal, merchantId)) throw forbidden('This token is limited to other merchants.');
    return merchant;
  }

  async function listMerchants(principal: Principal, page: PageQuery): Promise<Page<Merchant>> {
    const rows = await repo.listMerchants(db, principal.accountId, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      only: principal.merchantIds,
    });
    return toPage(rows, page.limit, (m) => m.id);
  }

  async function createMerchant(principal: Principal, input: { name: string; domain: string }): Promise<Merchant> {
    if (principal.merchantIds !== null) {
      throw new DomainError('forbidden', 'forbidden', 'A token limited to some merchants cannot create merchants.');
    }
    return repo.insertMerchant(db, principal.accountId, { id: newId(), ...input });
  }

  return {
    authenticate,
    createAccount,
    createAccountFromCli,
    createToken,
    createApiToken,
    listTokens,
    revokeToken,
    bootstrap,
    getAccount,
    getMerchant,
    listMerchants,
    createMerchant,
  };
}

export type AccountsService = ReturnType<typeof accountsService>;

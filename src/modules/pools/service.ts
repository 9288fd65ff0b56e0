import { DomainError, invalid, notFound } from '../../platform/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import type { Kysely } from 'kysely';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import { canUseMerchant } from '../accounts/model.ts';
import { parseDate } from '../uploads/lines.ts';
import {
  checkPoolSettings,
  forecastRunOut,
  parseNotificationEmails,
  type FieldProblem,
  type Pool,
  type PoolSettings,
  type PoolType,
  type PoolWithCounts,
  type UsedByJson,
} from './model.ts';
import * as repo from './repo.ts';

/** Settings as they arrive (dates as text, addresses as text or a list). */
export interface PoolInput {
  name: string;
  type: PoolType;
  expirationCutoffDays?: number | undefined;
  active?: boolean | undefined;
  defaultCode?: string | null | undefined;
  defaultCodeExpiresAt?: string | null | undefined;
  threshold?: number | null | undefined;
  notificationEmails?: string | string[] | undefined;
  releaseUndelivered?: boolean | undefined;
  expiryReminderDays?: number | null | undefined;
}

/** Who uses something: the conversations that would break without it (the conductor answers it, in `db`). */
export type UsedBy = (db: Kysely<DB>, accountId: string, ref: { poolId: string }) => Promise<UsedByJson[]>;

export function poolsService(deps: { database: AppDatabase; clock: Clock; accounts: AccountsService; usedBy?: UsedBy }) {
  const { db } = deps.database;

  async function normalize(
    accountId: string,
    input: Partial<PoolInput>,
  ): Promise<{ settings: Partial<PoolSettings>; problems: FieldProblem[] }> {
    const problems: FieldProblem[] = [];
    const { defaultCodeExpiresAt, notificationEmails, ...rest } = input;
    const settings: Partial<PoolSettings> = { ...rest };
    if (defaultCodeExpiresAt !== undefined) {
      if (defaultCodeExpiresAt === null) settings.defaultCodeExpiresAt = null;
      else {
        const { timeZone } = await deps.accounts.getAccount(accountId);
        const at = parseDate(defaultCodeExpiresAt, timeZone);
        if (at) settings.defaultCodeExpiresAt = at;
        else
          problems.push({ field: 'defaultCodeExpiresAt', message: 'must be YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset' });
      }
    }
    if (notificationEmails !== undefined) {
      const parsed = parseNotificationEmails(notificationEmails);
      settings.notificationEmails = parsed.emails;
      problems.push(...parsed.problems);
    }
    return { settings, problems };
  }

  const rejectIf = (problems: FieldProblem[]) => {
    const first = problems[0];
    if (first) throw invalid(`${first.field}: ${first.message}`, problems);
  };

  const nameTaken = (name: string) =>
    new DomainError('conflict', 'name_taken', `A pool named "${name}" already exists for this merchant.`, [
      { field: 'name', message: 'is already used by another pool of this merchant (names ignore case)' },
    ]);

  async function withCounts(pools: Pool[]): Promise<PoolWithCounts[]> {
    const now = deps.clock.now();
    const counts = await repo.countsFor(
      db,
      pools.map((p) => p.key),
      now,
    );
    return pools.map((pool) => {
      const c = counts.get(pool.key) ?? {
        total: 0,
        available: 0,
        assigned: 0,
        expired: 0,
        withinCutoff: 0,
        redeemed: 0,
        assignedLast7Days: 0,
      };
      const { assignedLast7Days, ...rest } = c;
      return { ...pool, counts: rest, runsOutAt: forecastRunOut(rest.available, assignedLast7Days, now) };
    });
  }

  /** The pool, if it belongs to the caller's account and a merchant the caller may use. */
  async function getPoolFor(principal: Principal, poolId: string): Promise<Pool> {
    const pool = await repo.findPool(db, principal.accountId, poolId);
    if (!pool || !canUseMerchant(principal, pool.merchantId)) throw notFound('pool');
    return pool;
  }

  async function createPool(principal: Principal, merchantId: string, input: PoolInput): Promise<PoolWithCounts> {
    await deps.accounts.getMerchant(principal, merchantId);
    const { settings, problems } = await normalize(principal.accountId, input);
    const full: PoolSettings = {
      name: input.name,
      type: input.type,
      expirationCutoffDays: settings.expirationCutoffDays ?? 0,
      active: settings.active ?? true,
      defaultCode: settings.defaultCode ?? null,
      defaultCodeExpiresAt: settings.defaultCodeExpiresAt ?? null,
      threshold: settings.threshold ?? null,
      notificationEmails: settings.notificationEmails ?? [],
      releaseUndelivered: settings.releaseUndelivered ?? true,
      expiryReminderDays: settings.expiryReminderDays ?? null,
    };
    rejectIf([...problems, ...checkPoolSettings(full)]);
    try {
      const pool = await repo.insertPool(db, { accountId: principal.accountId, id: newId(), merchantId, now: deps.clock.now(), ...full });
      return (await withCounts([pool]))[0]!;
    } catch (err) {
      if (isUniqueViolation(err, 'pools_name_key')) throw nameTaken(full.name);
      throw err;
    }
  }

  async function updatePool(principal: Principal, poolId: string, input: Partial<PoolInput>): Promise<PoolWithCounts> {
    const current = await getPoolFor(principal, poolId);
    const { settings, problems } = await normalize(principal.accountId, input);
    const merged: PoolSettings = { ...current, ...settings };
    rejectIf([...problems, ...checkPoolSettings(merged)]);
    if (settings.type && settings.type !== current.type && (await repo.poolHasContent(db, current.key))) {
      throw new DomainError('conflict', 'pool_not_empty', 'The type of a pool that holds codes cannot change; create another pool.', [
        { field: 'type', message: 'cannot change once the pool holds codes' },
      ]);
    }
    try {
      const pool = await repo.updatePool(db, principal.accountId, poolId, settings, deps.clock.now());
      return (await withCounts([pool]))[0]!;
    } catch (err) {
      if (isUniqueViolation(err, 'pools_name_key')) throw nameTaken(merged.name);
      throw err;
    }
  }

  async function getPool(principal: Principal, poolId: string): Promise<PoolWithCounts> {
    return (await withCounts([await getPoolFor(principal, poolId)]))[0]!;
  }

  async function listPools(principal: Principal, merchantId: string, page: PageQuery, archived = false): Promise<Page<PoolWithCounts>> {
    await deps.accounts.getMerchant(principal, merchantId);
    const rows = await repo.listPools(db, principal.accountId, merchantId, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      archived,
    });
    const pageOfPools = toPage(rows, page.limit, (p) => p.id);
    return { items: await withCounts(pageOfPools.items), nextCursor: pageOfPools.nextCursor };
  }

  /** By key, unscoped (internal: a bounce gave codes back to these pools). */
  const findByKeys = (keys: number[]): Promise<Pool[]> => repo.findPoolsByKey(db, keys);

  /**
   * Archives (or unarchives) a pool. The pool row is locked first (FOR UPDATE): a publish locks the
   * pools it names FOR SHARE before checking them, so a publish and an archive never both pass on
   * stale readings. Refused (409 pool_in_use, naming them) while a conversation uses the pool.
   */
  async function setArchived(principal: Principal, poolId: string, archive: boolean): Promise<PoolWithCounts> {
    await getPoolFor(principal, poolId);
    const pool = await db.transaction().execute(async (tx) => {
      const current = (await repo.lockPool(tx, principal.accountId, poolId))!;
      if (archive === (current.archivedAt !== null)) return current;
      if (archive) {
        const users = (await deps.usedBy?.(tx, principal.accountId, { poolId })) ?? [];
        if (users.length > 0) throw inUse('pool_in_use', `The pool "${current.name}"`, users);
      }
      return repo.setArchived(tx, principal.accountId, poolId, archive ? deps.clock.now() : null, deps.clock.now());
    });
    return (await withCounts([pool]))[0]!;
  }

  /** An archived pool takes no codes (uploads, generate, static rows): 409 pool_archived. */
  function refuseArchived(pool: Pool): void {
    if (pool.archivedAt)
      throw new DomainError('conflict', 'pool_archived', `The pool "${pool.name}" is archived: unarchive it to add codes.`);
  }

  return { createPool, updatePool, getPool, getPoolFor, listPools, findByKeys, setArchived, refuseArchived };
}

export type PoolsService = ReturnType<typeof poolsService>;

/** 409 `<what>_in_use`: the message names the conversations, `details` lists them. */
export function inUse(code: string, subject: string, users: UsedByJson[]): DomainError {
  const names = users.map((u) => `"${u.name}" (${u.status})`).join(', ');
  return new DomainError(
    'conflict',
    code,
    `${subject} is used by ${users.length === 1 ? 'the conversation' : 'the conversations'} ${names}.`,
    users,
  );
}

import { DomainError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import type { AppDatabase } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { PoolsService } from './service.ts';
import { lockPool } from './repo.ts';
import { validateStaticRows, type StaticRow, type StaticRowInput } from './static-rows.ts';

/** Static pools: rows of one shared code each, scheduled by distribution windows. */
export function staticCodesService(deps: { database: AppDatabase; accounts: AccountsService; pools: PoolsService }) {
  const { db } = deps.database;

  async function staticPool(principal: Principal, poolId: string) {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    if (pool.type !== 'static') {
      throw new DomainError('conflict', 'pool_not_static', 'Rows belong to static pools; a unique pool takes uploaded or generated codes.');
    }
    return pool;
  }

  async function validate(principal: Principal, poolId: string, rows: StaticRowInput[]) {
    await staticPool(principal, poolId);
    const { timeZone } = await deps.accounts.getAccount(principal.accountId);
    return validateStaticRows(rows, timeZone);
  }

  async function listRows(principal: Principal, poolId: string): Promise<StaticRow[]> {
    const pool = await staticPool(principal, poolId);
    const rows = await db
      .selectFrom('static_codes')
      .selectAll()
      .where('pool_key', '=', pool.key)
      .orderBy('begin_at')
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      code: r.code,
      begin: r.begin_at,
      end: r.end_at,
      expiresAt: r.expires_at,
      daysAfterDistribution: r.days_after_distribution,
    }));
  }

  /** Replaces all rows, after validating them; rows with errors are refused whole (422). */
  async function saveRows(principal: Principal, poolId: string, rows: StaticRowInput[]) {
    deps.pools.refuseArchived(await deps.pools.getPoolFor(principal, poolId));
    const pool = await staticPool(principal, poolId);
    const { timeZone } = await deps.accounts.getAccount(principal.accountId);
    const checked = validateStaticRows(rows, timeZone);
    if (!checked.valid) {
      const first = checked.errors[0];
      throw new DomainError(
        'invalid',
        'validation_failed',
        first ? `row ${first.row} ${first.field}: ${first.message}` : 'invalid rows',
        checked.errors,
        {
          warnings: checked.warnings,
        },
      );
    }
    await db.transaction().execute(async (tx) => {
      await lockPool(tx, principal.accountId, pool.id);
      await tx.deleteFrom('static_codes').where('pool_key', '=', pool.key).execute();
      if (checked.rows.length) {
        await tx
          .insertInto('static_codes')
          .values(
            checked.rows.map((row, position) => ({
              account_id: principal.accountId,
              pool_key: pool.key,
              position,
              code: row.code,
              expires_at: row.expiresAt,
              days_after_distribution: row.daysAfterDistribution,
              begin_at: row.begin,
              end_at: row.end,
            })),
          )
          .execute();
      }
    });
    return { rows: checked.rows, warnings: checked.warnings };
  }

  return { validate, listRows, saveRows };
}

export type StaticCodesService = ReturnType<typeof staticCodesService>;

import { DateTime } from 'luxon';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import type { AppDatabase } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { PoolsService } from '../pools/service.ts';
import { forecastAvailable, type PoolReport, type Revenue } from './model.ts';
import {
  assignedSinceStatement,
  dayCountsStatement,
  historyProgressStatement,
  historyRowsStatement,
  leavingStatement,
  poolFiguresStatement,
  recordDayStatement,
  revenueStatement,
  stepRedemptionsStatement,
  type DayBounds,
} from './reports.sql.ts';

/** How far back the job fills days it missed (the process was down): older days stay unrecorded. */
export const CATCH_UP_DAYS = 31;

/** The instants of a local day in `zone` (DST-safe: a day may last 23 or 25 hours). */
export function dayBounds(day: string, zone: string): DayBounds {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  return { day, start: start.toJSDate(), end: start.plus({ days: 1 }).toJSDate() };
}

/** The calendar day of `at` in `zone`, YYYY-MM-DD. */
export const localDay = (at: Date, zone: string): string => DateTime.fromJSDate(at, { zone }).toISODate()!;

const addDays = (day: string, n: number): string => DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: n }).toISODate()!;

/** Per conversation, then per step id: the redemptions of the codes that step handed out. */
export type StepRedemptions = Map<string, Map<string, { redeemed: number; revenue: Revenue[] }>>;

export function reportsService(deps: { database: AppDatabase; clock: Clock; accounts: AccountsService; pools: PoolsService }) {
  const { db } = deps.database;

  /**
   * The periodic job: for every account, each local day that ended since the last recorded one (at
   * most {@link CATCH_UP_DAYS} back, never before its first pool) gets its rows, one statement per
   * account and day. Safe in any number of processes at once (see recordDayStatement). Answers
   * how many rows this run wrote.
   */
  async function recordDailyHistory(): Promise<number> {
    const now = deps.clock.now();
    let written = 0;
    for (const account of (await historyProgressStatement().execute(db)).rows) {
      const lastEnded = addDays(localDay(now, account.time_zone), -1);
      let day = account.last_day ? addDays(account.last_day, 1) : localDay(new Date(account.first_pool_at), account.time_zone);
      const earliest = addDays(lastEnded, 1 - CATCH_UP_DAYS);
      if (day < earliest) day = earliest;
      for (; day <= lastEnded; day = addDays(day, 1)) {
        const { rows } = await recordDayStatement({
          accountId: account.account_id,
          bounds: dayBounds(day, account.time_zone),
          now,
        }).execute(db);
        written += rows.length;
      }
    }
    return written;
  }

  /** GET /v1/pools/{id}/report: the figures now, and the recorded history of the last `days` days. */
  async function poolReport(principal: Principal, poolId: string, days: number): Promise<PoolReport> {
    const pool = await deps.pools.getPool(principal, poolId); // scoped: another merchant's or account's pool is 404
    const { timeZone } = await deps.accounts.getAccount(principal.accountId);
    const now = deps.clock.now();
    const today = localDay(now, timeZone);
    const bounds = dayBounds(today, timeZone);
    const [figures, revenue, history, todayCounts] = await Promise.all([
      poolFiguresStatement({ poolKey: pool.key }).execute(db),
      revenueStatement({ poolKey: pool.key }).execute(db),
      historyRowsStatement({ poolKey: pool.key, fromDay: addDays(today, -days) }).execute(db),
      dayCountsStatement({ poolKey: pool.key, start: bounds.start, end: bounds.end }).execute(db),
    ]);
    const f = figures.rows[0]!;
    const assigned = Number(f.assigned);
    let forecast: PoolReport['forecast'] = null;
    if (pool.type === 'unique') {
      const since = new Date(now.getTime() - 7 * 86_400_000);
      const [leaving, recent] = await Promise.all([
        leavingStatement({ poolKey: pool.key, now, cutoffDays: pool.expirationCutoffDays }).execute(db),
        assignedSinceStatement({ poolKey: pool.key, since }).execute(db),
      ]);
      forecast = forecastAvailable(
        leaving.rows.map((r) => ({ leavesOn: r.leaves_on === 'infinity' ? null : r.leaves_on, codes: Number(r.codes) })),
        Number(recent.rows[0]!.n) / 7,
        now.toISOString().slice(0, 10),
      );
    }
    return {
      poolId: pool.id,
      timeZone,
      assigned,
      redeemed: Number(f.redeemed),
      redemptionRate: assigned === 0 ? null : Number(f.redeemed_assignments) / assigned,
      medianHoursToRedeem: f.median_hours === null ? null : Math.round(Number(f.median_hours) * 100) / 100,
      revenue: revenue.rows.map((r) => ({ currency: r.currency, amount: r.amount })),
      daily: history.rows.map((r) => ({
        date: r.day,
        assigned: Number(r.assigned),
        redeemed: Number(r.redeemed),
        available: Number(r.available),
      })),
      today: {
        date: today,
        assigned: Number(todayCounts.rows[0]!.assigned),
        redeemed: Number(todayCounts.rows[0]!.redeemed),
        available: pool.counts.available,
      },
      forecast,
    };
  }

  /** For the conductor's per-step counts (no scope here: the caller has checked the conversations). */
  async function stepRedemptions(conversationIds: string[]): Promise<StepRedemptions> {
    const out: StepRedemptions = new Map();
    if (conversationIds.length === 0) return out;
    for (const r of (await stepRedemptionsStatement({ conversationIds }).execute(db)).rows) {
      const steps = out.get(r.conversation_id) ?? new Map<string, { redeemed: number; revenue: Revenue[] }>();
      out.set(r.conversation_id, steps);
      const step = steps.get(r.step_id) ?? { redeemed: 0, revenue: [] };
      steps.set(r.step_id, step);
      step.redeemed += Number(r.redeemed);
      if (r.currency !== null && r.amount !== null) step.revenue.push({ currency: r.currency, amount: r.amount });
    }
    for (const steps of out.values()) for (const s of steps.values()) s.revenue.sort((a, b) => a.currency.localeCompare(b.currency));
    return out;
  }

  return { recordDailyHistory, poolReport, stepRedemptions };
}

export type ReportsService = ReturnType<typeof reportsService>;

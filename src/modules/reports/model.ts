/**
 * Pool reports: the contract the console imports, and the pure forecast. No I/O.
 */

/** Revenue in one currency: `amount` is an exact decimal string ("1234.50"), never a float. */
export interface Revenue {
  currency: string;
  amount: string;
}

/** One recorded day of a pool, in the account's time zone: that day's counts, and `available` at its end. */
export interface DailyRow {
  /** YYYY-MM-DD. */
  date: string;
  assigned: number;
  redeemed: number;
  available: number;
}

/** A point of the forecast: codes still available at the end of `date` (YYYY-MM-DD, UTC). */
export interface ForecastPoint {
  date: string;
  available: number;
}

export interface Forecast {
  /** Unique codes handed out per day over the last 7 days. */
  ratePerDay: number;
  /** The first day on which no code is left, or null (no rate, or codes never run out within the horizon). */
  runsOutOn: string | null;
  points: ForecastPoint[];
}

export interface PoolReport {
  poolId: string;
  timeZone: string;
  /** Assignments of the pool (not released). */
  assigned: number;
  /** Live redemptions (a shared code once per order). */
  redeemed: number;
  /** Assignments redeemed at least once ÷ assigned; null before the first assignment. */
  redemptionRate: number | null;
  /** Median hours from an assignment to its redemption; null before the first matched redemption. */
  medianHoursToRedeem: number | null;
  revenue: Revenue[];
  /** The recorded history, oldest first (one row per ended day since recording began). */
  daily: DailyRow[];
  /** Today so far in the account's zone (not recorded yet): `available` is the count now. */
  today: DailyRow;
  /** Unique pools only (null for static pools). */
  forecast: Forecast | null;
}

/** Codes that leave availability (expire, or enter the cutoff) on one day; `leavesOn` null = never. */
export interface LeavingCodes {
  leavesOn: string | null;
  codes: number;
}

const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * Available codes day by day ahead, at `ratePerDay`: each day hands out codes soonest-expiring
 * first (as the claim does), and at its end the codes whose day to leave has come leave unassigned
 * (they expire or enter the cutoff). So a pool whose codes expire before they can be handed out
 * runs out earlier than `available ÷ rate` says, and without any rate it still loses its expiring
 * codes. One point per day from `today` (its value: `leaving` summed, i.e. available now), for
 * `horizonDays` days or until nothing is left.
 */
export function forecastAvailable(leaving: readonly LeavingCodes[], ratePerDay: number, today: string, horizonDays = 366): Forecast {
  const buckets = leaving
    .filter((b) => b.codes > 0)
    .map((b) => ({ leavesOn: b.leavesOn, left: b.codes }))
    .sort((a, b) => (a.leavesOn ?? '9999').localeCompare(b.leavesOn ?? '9999'));
  let available = buckets.reduce((n, b) => n + b.left, 0);
  const start = Date.parse(`${today}T00:00:00Z`);
  const points: ForecastPoint[] = [{ date: today, available }];
  let runsOutOn: string | null = null;
  let carry = 0; // fractional rates: whole codes leave as the fractions add up
  for (let d = 1; d <= horizonDays && available > 0; d++) {
    const date = isoDay(start + d * DAY_MS);
    carry += ratePerDay;
    let take = Math.floor(carry);
    carry -= take;
    // Codes whose day to leave has passed (today's at today's end) are gone before this day's claims.
    for (const b of buckets) if (b.leavesOn !== null && b.leavesOn < date) b.left = 0;
    for (const b of buckets) {
      if (take === 0) break;
      const n = Math.min(b.left, take);
      b.left -= n;
      take -= n;
    }
    for (const b of buckets) if (b.leavesOn !== null && b.leavesOn <= date) b.left = 0; // and at this day's end, its own
    available = buckets.reduce((n, b) => n + b.left, 0);
    points.push({ date, available });
    if (available === 0) runsOutOn = date;
  }
  return { ratePerDay, runsOutOn, points };
}

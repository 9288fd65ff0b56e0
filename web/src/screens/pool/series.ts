import type { PoolReport } from './report.ts';
import { dayNumber } from './axes.ts';

/** One day on the chart: recorded (a day that ended), today (so far), or forecast (ahead). */
export interface ChartDay {
  day: number;
  kind: 'recorded' | 'today' | 'forecast';
  available: number;
  assigned: number | null;
  redeemed: number | null;
}

export interface ChartSeries {
  days: ChartDay[];
  /** The x range: the first recorded day (at least a week back) to the last forecast day shown. */
  from: number;
  to: number;
  today: number;
  /** The forecast's run-out day when it lies beyond the range shown. */
  runsOutBeyond: string | null;
}

/**
 * The days the chart draws from a report: the recorded history, today, and the forecast ahead for
 * as long as the history shown (at least 14 days), so that a run-out years ahead does not squeeze
 * the past into a sliver on the left.
 */
export function chartSeries(report: PoolReport): ChartSeries {
  const today = dayNumber(report.today.date);
  const recorded: ChartDay[] = report.daily.map((d) => ({
    day: dayNumber(d.date),
    kind: 'recorded',
    available: d.available,
    assigned: d.assigned,
    redeemed: d.redeemed,
  }));
  const now: ChartDay = {
    day: today,
    kind: 'today',
    available: report.today.available,
    assigned: report.today.assigned,
    redeemed: report.today.redeemed,
  };
  const from = Math.min(recorded[0]?.day ?? today, today - 6);
  const ahead = Math.max(14, today - from);
  const forecast: ChartDay[] = (report.forecast?.points ?? [])
    .map((p) => ({ day: dayNumber(p.date), kind: 'forecast' as const, available: p.available, assigned: null, redeemed: null }))
    .filter((p) => p.day > today && p.day <= today + ahead);
  const last = forecast[forecast.length - 1]?.day ?? today;
  const runsOut = report.forecast?.runsOutOn ?? null;
  return {
    days: [...recorded.filter((d) => d.day < today), now, ...forecast],
    from,
    to: Math.max(last, today + 1),
    today,
    runsOutBeyond: runsOut !== null && dayNumber(runsOut) > last ? runsOut : null,
  };
}

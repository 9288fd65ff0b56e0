/** Axis ticks for the pool charts: pure, no React. Days are UTC day numbers (ms since epoch ÷ 1 day). */

export const DAY_MS = 86_400_000;
export const dayNumber = (isoDate: string): number => Math.round(Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS);
export const isoOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * Round value ticks from 0: steps of 1, 2 or 5 × 10^k, at most `count` + 1 ticks, the last at or
 * above `max`. A max of 0 still gives an axis (0 and 1).
 */
export function valueTicks(max: number, count = 4): number[] {
  const top = Math.max(1, max);
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const whole = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let v = 0; v < top + whole; v += whole) {
    ticks.push(v);
    if (v >= top) break;
  }
  return ticks;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mar 2", or "Mar 2026" for month ticks; with the year on the first tick of each year. */
export function dayLabel(day: number, monthly = false): string {
  const d = new Date(day * DAY_MS);
  return monthly ? `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}` : `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

/**
 * Date ticks between two days at a sensible step: every day, 2 days, a week (Mondays), 2 weeks,
 * or month starts (every 1, 2, 3, 6 or 12 months), at most `count` of them.
 */
export function dateTicks(from: number, to: number, count = 7): { day: number; label: string }[] {
  const span = Math.max(1, to - from);
  for (const step of [1, 2, 7, 14]) {
    if (span / step > count) continue;
    const first = step === 7 || step === 14 ? from + ((8 - new Date(from * DAY_MS).getUTCDay()) % 7) : from;
    const out: { day: number; label: string }[] = [];
    for (let d = first; d <= to; d += step) out.push({ day: d, label: dayLabel(d) });
    return out;
  }
  const start = new Date(from * DAY_MS);
  const firstMonth = start.getUTCFullYear() * 12 + start.getUTCMonth() + (start.getUTCDate() === 1 ? 0 : 1);
  for (const months of [1, 2, 3, 6, 12, 24, 60]) {
    const out: { day: number; label: string }[] = [];
    for (let n = firstMonth; ; n++) {
      const day = Date.UTC(Math.floor(n / 12), n % 12, 1) / DAY_MS;
      if (day > to) break;
      if (n % months === 0) out.push({ day, label: dayLabel(day, true) });
    }
    if (out.length <= count) return out;
  }
  return [
    { day: from, label: dayLabel(from) },
    { day: to, label: dayLabel(to) },
  ];
}

import { describe, expect, it } from 'vitest';
import { dateTicks, dayNumber, valueTicks } from '../../web/src/screens/pool/axes.ts';

describe('chart axes', () => {
  it('value ticks are round steps from 0 reaching the maximum', () => {
    expect(valueTicks(8)).toEqual([0, 2, 4, 6, 8]);
    expect(valueTicks(60)).toEqual([0, 20, 40, 60]);
    expect(valueTicks(9_500)).toEqual([0, 5000, 10000]);
    expect(valueTicks(0)).toEqual([0, 1]);
    expect(valueTicks(3)).toEqual([0, 1, 2, 3]);
  });

  it('date ticks: days, then Mondays, then month starts, never more than asked', () => {
    const d = dayNumber;
    expect(dateTicks(d('2026-03-01'), d('2026-03-05')).map((t) => t.label)).toEqual(['Mar 1', 'Mar 2', 'Mar 3', 'Mar 4', 'Mar 5']);
    // 2026-03-02 is a Monday.
    expect(dateTicks(d('2026-03-01'), d('2026-04-05')).map((t) => t.label)).toEqual(['Mar 2', 'Mar 9', 'Mar 16', 'Mar 23', 'Mar 30']);
    expect(dateTicks(d('2026-01-15'), d('2026-07-20')).map((t) => t.label)).toEqual([
      'Feb 2026',
      'Mar 2026',
      'Apr 2026',
      'May 2026',
      'Jun 2026',
      'Jul 2026',
    ]);
    const years = dateTicks(d('2026-01-01'), d('2029-12-31'));
    expect(years.length).toBeLessThanOrEqual(7);
    expect(years.every((t) => /^[A-Z][a-z]{2} \d{4}$/.test(t.label))).toBe(true);
  });
});

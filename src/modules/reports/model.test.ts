import { describe, expect, it } from 'vitest';
import { forecastAvailable } from './model.ts';

describe('forecastAvailable: the run-out forecast with codes that leave on their day', () => {
  it('without expiring codes it is available ÷ rate', () => {
    const f = forecastAvailable([{ leavesOn: null, codes: 10 }], 2, '2026-03-01');
    expect(f.points.slice(0, 3)).toEqual([
      { date: '2026-03-01', available: 10 },
      { date: '2026-03-02', available: 8 },
      { date: '2026-03-03', available: 6 },
    ]);
    expect(f.runsOutOn).toBe('2026-03-06');
  });

  it('codes expiring before they can be handed out leave on their day: the pool runs out sooner', () => {
    // 10 never-expiring codes and 10 leaving at the end of March 3, at 2 a day: the claim takes the
    // expiring ones first (2 on the 2nd, 2 on the 3rd), the other 6 leave unassigned at the 3rd's end.
    const f = forecastAvailable(
      [
        { leavesOn: null, codes: 10 },
        { leavesOn: '2026-03-03', codes: 10 },
      ],
      2,
      '2026-03-01',
    );
    expect(f.points.slice(0, 4).map((p) => p.available)).toEqual([20, 18, 10, 8]);
    expect(f.runsOutOn).toBe('2026-03-08'); // then 2 a day from the 10 left; 20 ÷ 2 would say March 11
  });

  it('with no rate the forecast still loses the codes that expire, and never runs out otherwise', () => {
    const f = forecastAvailable(
      [
        { leavesOn: '2026-03-02', codes: 3 },
        { leavesOn: null, codes: 5 },
      ],
      0,
      '2026-03-01',
      10,
    );
    expect(f.points.map((p) => p.available)).toEqual([8, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    expect(f.runsOutOn).toBeNull();
  });

  it('codes that leave at the end of today are not handed out tomorrow', () => {
    const f = forecastAvailable(
      [
        { leavesOn: '2026-03-01', codes: 4 },
        { leavesOn: null, codes: 4 },
      ],
      2,
      '2026-03-01',
    );
    expect(f.points.map((p) => p.available)).toEqual([8, 2, 0]);
  });

  it('a fractional rate hands out whole codes as the fractions add up', () => {
    const f = forecastAvailable([{ leavesOn: null, codes: 3 }], 0.5, '2026-03-01');
    expect(f.points.map((p) => p.available)).toEqual([3, 3, 2, 2, 1, 1, 0]);
    expect(f.runsOutOn).toBe('2026-03-07');
  });
});

import { describe, expect, it } from 'vitest';
import { noticesDue } from './notices.ts';

describe('noticesDue', () => {
  it('fires once per crossing and re-arms above the threshold', () => {
    const p = { threshold: 10 };
    expect(noticesDue({ pool: p, counts: { available: 11, total: 100 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({
      fire: [],
      rearm: [],
    });
    expect(noticesDue({ pool: p, counts: { available: 10, total: 100 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({
      fire: ['threshold'],
      rearm: [],
    });
    expect(noticesDue({ pool: p, counts: { available: 5, total: 100 }, thresholdArmed: false, exhaustedArmed: true })).toEqual({
      fire: [],
      rearm: [],
    });
    expect(noticesDue({ pool: p, counts: { available: 0, total: 100 }, thresholdArmed: false, exhaustedArmed: true })).toEqual({
      fire: ['exhausted'],
      rearm: [],
    });
    expect(noticesDue({ pool: p, counts: { available: 0, total: 100 }, thresholdArmed: false, exhaustedArmed: false })).toEqual({
      fire: [],
      rearm: [],
    });
    expect(noticesDue({ pool: p, counts: { available: 50, total: 100 }, thresholdArmed: false, exhaustedArmed: false })).toEqual({
      fire: [],
      rearm: ['threshold', 'exhausted'],
    });
  });

  it('without a threshold, only the exhausted notice exists', () => {
    expect(
      noticesDue({ pool: { threshold: null }, counts: { available: 0, total: 100 }, thresholdArmed: true, exhaustedArmed: true }),
    ).toEqual({ fire: ['exhausted'], rearm: [] });
  });

  it('a pool that has never held a code is neither low nor exhausted', () => {
    expect(noticesDue({ pool: { threshold: 10 }, counts: { available: 0, total: 0 }, thresholdArmed: true, exhaustedArmed: true })).toEqual(
      { fire: [], rearm: [] },
    );
    expect(noticesDue({ pool: { threshold: 10 }, counts: { available: 0, total: 1 }, thresholdArmed: true, exhaustedArmed: true })).toEqual(
      { fire: ['threshold', 'exhausted'], rearm: [] },
    );
  });
});

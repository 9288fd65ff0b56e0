import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planAssignments } from './model.ts';
import { noticesDue } from './notices.ts';

const now = new Date('2026-05-01T00:00:00Z');
let ids = 0;
const newId = () => `a${++ids}`;
const pool = (over: object = {}) => ({ id: 'p', active: true, defaultCode: null as string | null, defaultCodeExpiresAt: null as Date | null, ...over });

describe('planAssignments', () => {
  it('gives claimed codes in order, then the static offer, then the default, else exhausted', () => {
    const requests = ['k1', 'k2', 'k3'].map((k) => ({ contactId: `c-${k}`, idempotencyKey: k }));
    const claimed = [{ id: 1, code: 'A', expiresAt: null }];
    const withDefault = planAssignments({ pool: pool({ defaultCode: 'D', defaultCodeExpiresAt: now }), requests, claimed, staticOffer: undefined, now, newId });
    expect([...withDefault.planned.values()].map((o) => (o.ok ? `${o.assignment.source}:${o.assignment.code}` : o.reason))).toEqual([
      'unique:A',
      'default:D',
      'default:D',
    ]);
    const none = planAssignments({ pool: pool(), requests, claimed: [], staticOffer: undefined, now, newId });
    expect([...none.planned.values()].every((o) => !o.ok && o.reason === 'pool_exhausted')).toBe(true);
    const offer = planAssignments({ pool: pool({ defaultCode: 'D' }), requests, claimed: [], staticOffer: { code: 'S', expiresAt: null }, now, newId });
    expect([...offer.planned.values()].every((o) => o.ok && o.assignment.source === 'static')).toBe(true);
  });

  it('an inactive pool gives nothing, not even the default code', () => {
    const out = planAssignments({
      pool: pool({ active: false, defaultCode: 'D' }),
      requests: [{ contactId: 'c', idempotencyKey: 'k' }],
      claimed: [],
      staticOffer: { code: 'S', expiresAt: null },
      now,
      newId,
    });
    expect(out.planned.get('k')).toEqual({ ok: false, reason: 'pool_inactive' });
  });

  it('never gives one code to two requests, and uses every claimed code it can', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.boolean(), (nRequests, nCodes, hasDefault) => {
        const requests = Array.from({ length: nRequests }, (_, i) => ({ contactId: `c${i}`, idempotencyKey: `k${i}` }));
        const claimed = Array.from({ length: nCodes }, (_, i) => ({ id: i, code: `C${i}`, expiresAt: null }));
        const { planned, unused } = planAssignments({ pool: pool({ defaultCode: hasDefault ? 'D' : null }), requests, claimed, staticOffer: undefined, now, newId });
        const unique = [...planned.values()].flatMap((o) => (o.ok && o.assignment.source === 'unique' ? [o.assignment.codeId] : []));
        expect(new Set(unique).size).toBe(unique.length);
        expect(unique.length).toBe(Math.min(nRequests, nCodes));
        expect(unused.length).toBe(Math.max(0, nCodes - nRequests));
        const failures = [...planned.values()].filter((o) => !o.ok).length;
        expect(failures).toBe(hasDefault ? 0 : Math.max(0, nRequests - nCodes));
      }),
    );
  });
});

describe('noticesDue', () => {
  it('fires once per crossing and re-arms above the threshold', () => {
    const p = { threshold: 10 };
    expect(noticesDue({ pool: p, counts: { available: 11, total: 100 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({ fire: [], rearm: [] });
    expect(noticesDue({ pool: p, counts: { available: 10, total: 100 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({ fire: ['threshold'], rearm: [] });
    expect(noticesDue({ pool: p, counts: { available: 5, total: 100 }, thresholdArmed: false, exhaustedArmed: true })).toEqual({ fire: [], rearm: [] });
    expect(noticesDue({ pool: p, counts: { available: 0, total: 100 }, thresholdArmed: false, exhaustedArmed: true })).toEqual({ fire: ['exhausted'], rearm: [] });
    expect(noticesDue({ pool: p, counts: { available: 0, total: 100 }, thresholdArmed: false, exhaustedArmed: false })).toEqual({ fire: [], rearm: [] });
    expect(noticesDue({ pool: p, counts: { available: 50, total: 100 }, thresholdArmed: false, exhaustedArmed: false })).toEqual({ fire: [], rearm: ['threshold', 'exhausted'] });
  });

  it('without a threshold, only the exhausted notice exists', () => {
    expect(noticesDue({ pool: { threshold: null }, counts: { available: 0, total: 100 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({ fire: ['exhausted'], rearm: [] });
  });

  it('a pool that has never held a code is neither low nor exhausted', () => {
    expect(noticesDue({ pool: { threshold: 10 }, counts: { available: 0, total: 0 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({ fire: [], rearm: [] });
    expect(noticesDue({ pool: { threshold: 10 }, counts: { available: 0, total: 1 }, thresholdArmed: true, exhaustedArmed: true })).toEqual({ fire: ['threshold', 'exhausted'], rearm: [] });
  });
});

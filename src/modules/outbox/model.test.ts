import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { afterFailure, messageIdFor } from './model.ts';

const now = new Date('2026-03-01T00:00:00Z');
const policy = { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 3_600_000 };

describe('afterFailure', () => {
  it('waits the base delay, doubling after each attempt, and gives up after the last', () => {
    const waits = [1, 2, 3, 4].map((n) => {
      const next = afterFailure(n, policy, now);
      return next.status === 'queued' ? (next.nextAttemptAt.getTime() - now.getTime()) / 60_000 : 'failed';
    });
    expect(waits).toEqual([1, 2, 4, 8]);
    expect(afterFailure(5, policy, now)).toEqual({ status: 'failed' });
  });

  it('never waits longer than the cap, never less than the base, never retries past the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 100 }), (attempts, maxAttempts) => {
        const next = afterFailure(attempts, { ...policy, maxAttempts }, now);
        if (attempts >= maxAttempts) return next.status === 'failed';
        if (next.status !== 'queued') return false;
        const wait = next.nextAttemptAt.getTime() - now.getTime();
        return wait >= policy.baseDelayMs && wait <= policy.maxDelayMs;
      }),
    );
  });
});

describe('messageIdFor', () => {
  it('is stable for a mail and unique across mails', () => {
    expect(messageIdFor('a1', 'example.com')).toBe('<a1@example.com>');
    expect(messageIdFor('a1', 'example.com')).toBe(messageIdFor('a1', 'example.com'));
    expect(messageIdFor('a2', 'example.com')).not.toBe(messageIdFor('a1', 'example.com'));
  });
});

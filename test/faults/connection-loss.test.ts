import { describe, expect, it } from 'vitest';
import { isConnectionLoss, retryOnConnectionLoss } from '../../src/platform/db/errors.ts';

describe('connection loss', () => {
  it('is told from the errors of a statement', () => {
    const lost = [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('timeout exceeded when trying to connect'),
      new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], ''),
      Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ];
    for (const err of lost) expect(isConnectionLoss(err), err.message).toBe(true);
    const refused = [
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      new Error('pool not found'),
      undefined,
      'Connection terminated',
    ];
    for (const err of refused) expect(isConnectionLoss(err), String(err)).toBe(false);
  });

  it('is retried whole until the database answers; other errors are not retried', async () => {
    let calls = 0;
    const result = await retryOnConnectionLoss(
      async () => {
        if (++calls < 4) throw Object.assign(new Error('gone'), { code: '57P01' });
        return 'done';
      },
      { baseDelayMs: 1, maxDelayMs: 5 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(4);

    let other = 0;
    await expect(
      retryOnConnectionLoss(async () => {
        other++;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toThrow('duplicate key');
    expect(other).toBe(1);

    let hopeless = 0;
    await expect(
      retryOnConnectionLoss(
        async () => {
          hopeless++;
          throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        },
        { baseDelayMs: 5, maxDelayMs: 5, giveUpAfterMs: 30 },
      ),
    ).rejects.toThrow('refused');
    expect(hopeless).toBeGreaterThan(1);
  });
});

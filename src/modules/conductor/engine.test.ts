import { describe, expect, it } from 'vitest';
import { isRunFailure, StepFailure } from './engine.ts';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });
const step = { id: 's1', name: 'Mail', type: 'delay', duration: 'PT0S' } as never;

describe('isRunFailure: which errors of a batch count as a run attempt', () => {
  it("a refusal by the database, or a bug, is the run's (isolated, attempts counted)", () => {
    expect(isRunFailure(pgError('22P02', 'invalid input syntax for type json'))).toBe(true);
    expect(isRunFailure(new StepFailure(step, new TypeError('x is undefined')))).toBe(true);
  });

  it('a lost connection, a server shutting down, a deadlock or a serialization failure is not (no attempt counted)', () => {
    for (const code of ['08006', '08003', '57P01', '57P02', '57P03', '40P01', '40001'])
      expect(isRunFailure(pgError(code)), code).toBe(false);
    expect(isRunFailure(new StepFailure(step, pgError('57P01')))).toBe(false);
    expect(isRunFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isRunFailure(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});

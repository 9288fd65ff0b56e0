import type { Clock } from '../../platform/clock.ts';
import { DomainError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import type { AppDatabase } from '../../schema.ts';
import type { ConductorService } from './service.ts';
import { enrollmentView, withSteps } from './readback.ts';
import * as repo from './repo.ts';

/**
 * Runs as jobs: a run parked as `failed` (its step threw CONDUCTOR_MAX_ATTEMPTS times) is shown
 * with its attempts and last error in the enrollments list, and resumed here.
 */
export function runsService(deps: { database: AppDatabase; clock: Clock; conductor: Pick<ConductorService, 'scopeOf'> }) {
  const { db } = deps.database;

  /**
   * Makes a failed run active again, due now, with its attempts reset (held instead, when its
   * conversation is paused). It goes on from the step that failed; what it did before stays done.
   */
  async function resumeRun(principal: Principal, conversationId: string, enrollmentId: string) {
    const conversation = await repo.findConversation(db, principal.accountId, conversationId);
    if (!conversation) throw notFound('conversation');
    if ((await deps.conductor.scopeOf(principal))?.hiddenConversations.has(conversationId)) {
      throw forbidden('This conversation uses a merchant this token is not limited to (its pool or its coupon fields).');
    }
    const resumed = await repo.resumeFailedRun(db, principal.accountId, conversationId, enrollmentId, deps.clock.now());
    if (!resumed) {
      const run = await repo.findEnrollment(db, principal.accountId, conversationId, enrollmentId);
      if (!run) throw notFound('enrollment');
      throw new DomainError('conflict', 'invalid_state', `Only a failed run can be resumed; this one is ${run.status}.`);
    }
    return enrollmentView((await withSteps(db, [resumed]))[0]!);
  }

  return { resumeRun };
}

export type RunsService = ReturnType<typeof runsService>;

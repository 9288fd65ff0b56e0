import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { enrollmentOut } from './model.ts';
import type { RunsService } from './runs.ts';

const params = z.object({ conversationId: z.string().max(100), enrollmentId: z.string().max(100) });

export function runsRoutes(app: HttpApp, runs: RunsService) {
  app.post(
    '/v1/conversations/:conversationId/enrollments/:enrollmentId/resume',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Resume a failed run',
        description:
          'A run whose step threw CONDUCTOR_MAX_ATTEMPTS times is parked with status `failed` (with `attempts` and `lastError`). This makes it active again, due now, attempts reset (`held` while the conversation is paused). 409 `invalid_state` for a run that is not failed.',
        params,
        response: { 200: enrollmentOut },
      },
    },
    async (request) => runs.resumeRun(principalOf(request), request.params.conversationId, request.params.enrollmentId),
  );
}

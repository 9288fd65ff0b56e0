import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import type { EventsService } from './service.ts';
import { emailField } from '../../platform/email.ts';
import { DATE_RANGE, inDateRange } from '../uploads/lines.ts';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const noControlChars = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

const eventBody = z.object({
  type: z.string().trim().min(1).max(100).refine(noControlChars, 'must not contain control characters'),
  email: emailField(),
  properties: z.record(z.string(), z.unknown()).optional(),
  occurredAt: z.iso
    .datetime({ offset: true })
    .refine((t) => inDateRange(Date.parse(t)), `outside the dates that can be stored (${DATE_RANGE})`)
    .optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

export function eventsRoutes(app: HttpApp, events: EventsService) {
  app.post(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Record an event for a contact (created if new); an idempotency key already seen does nothing',
        description: 'Answers 202 with the conversations the contact entered and left (none until conversations exist).',
        body: eventBody,
        response: {
          202: z.object({ contactId: z.string(), enrolled: z.array(z.string()), exited: z.array(z.string()), duplicate: z.boolean() }),
        },
      },
    },
    async (request, reply) => {
      const { occurredAt, ...rest } = request.body;
      const answer = await events.recordEvent(principalOf(request), { ...rest, occurredAt: occurredAt === undefined ? undefined : new Date(occurredAt) });
      return reply.status(202).send(answer);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      schema: {
        tags: ['events'],
        summary: 'Record up to 1,000 events at once, each answered as POST /v1/events would, in order',
        description: 'One transaction for the whole batch: either every event is recorded or none (a 4xx/5xx answer). Repeated idempotency keys, in the batch or seen before, do nothing and answer `duplicate: true`.',
        body: z.object({ events: z.array(eventBody).min(1).max(1000) }),
        response: {
          202: z.object({ results: z.array(z.object({ contactId: z.string(), enrolled: z.array(z.string()), exited: z.array(z.string()), duplicate: z.boolean() })) }),
        },
      },
    },
    async (request, reply) => {
      const inputs = request.body.events.map(({ occurredAt, ...rest }) => ({ ...rest, occurredAt: occurredAt === undefined ? undefined : new Date(occurredAt) }));
      return reply.status(202).send({ results: await events.recordEvents(principalOf(request), inputs) });
    },
  );
}

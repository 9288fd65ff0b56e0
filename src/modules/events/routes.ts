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

const reasons = [
  'code_not_found',
  'not_assigned',
  'assigned_to_other',
  'expired',
  'already_redeemed',
  'pool_inactive',
  'ambiguous_code',
  'invalid_code',
  'already_recorded',
] as const;
const redemptionsOut = z
  .object({
    recorded: z.array(z.object({ code: z.string(), redemptionId: z.string(), poolId: z.string() })),
    notRecorded: z.array(z.object({ code: z.string(), reason: z.enum(reasons), redemptionId: z.string().optional() })),
  })
  .optional()
  .describe(
    'Only when properties.couponCode or couponCodes name codes: the redemptions recorded (source event) and the codes not recorded, with why',
  );
const eventAnswer = z.object({
  contactId: z.string(),
  enrolled: z.array(z.string()),
  exited: z.array(z.string()),
  duplicate: z.boolean(),
  redemptions: redemptionsOut,
});

export function eventsRoutes(app: HttpApp, events: EventsService) {
  app.post(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Record an event for a contact (created if new); an idempotency key already seen does nothing',
        description:
          'Answers 202 with the conversations the contact entered and left. properties.couponCode (a string) or couponCodes (an array) naming codes of the account record redemptions (source event, order properties.orderId, else the idempotency key, else the event), leniently like a redemptions file; the answer lists what was recorded and what was not and why.',
        body: eventBody,
        response: { 202: eventAnswer },
      },
    },
    async (request, reply) => {
      const { occurredAt, ...rest } = request.body;
      const answer = await events.recordEvent(principalOf(request), {
        ...rest,
        occurredAt: occurredAt === undefined ? undefined : new Date(occurredAt),
      });
      return reply.status(202).send(answer);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      schema: {
        tags: ['events'],
        summary: 'Record up to 1,000 events at once, each answered as POST /v1/events would, in order',
        description:
          'One transaction for the whole batch: either every event is recorded or none (a 4xx/5xx answer). Repeated idempotency keys, in the batch or seen before, do nothing and answer `duplicate: true`.',
        body: z.object({ events: z.array(eventBody).min(1).max(1000) }),
        response: {
          202: z.object({ results: z.array(eventAnswer) }),
        },
      },
    },
    async (request, reply) => {
      const inputs = request.body.events.map(({ occurredAt, ...rest }) => ({
        ...rest,
        occurredAt: occurredAt === undefined ? undefined : new Date(occurredAt),
      }));
      return reply.status(202).send({ results: await events.recordEvents(principalOf(request), inputs) });
    },
  );
}

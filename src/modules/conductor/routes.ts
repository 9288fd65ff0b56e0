import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { conversationInput, type Step } from './model.ts';
import { enrollmentView, type Conversation, type ConductorService } from './service.ts';

const params = z.object({ conversationId: z.string().max(100) });
const stepParams = params.extend({ stepId: z.string().max(100) });
const issue = z.object({ stepId: z.string().nullable(), field: z.string(), message: z.string() });
const counts = z.object({
  entered: z.number(),
  completed: z.number(),
  codesAssigned: z.number(),
  defaultCodes: z.number(),
  noCode: z.number(),
  messagesSent: z.number(),
  exits: z.number(),
});
// Steps are answered as stored (a union keyed by `type`); documented loosely to keep the schema small.
const stepOut = z.record(z.string(), z.unknown());
const conversationOut = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['draft', 'live', 'paused']),
  version: z.number().describe('the live version (0 before the first publish)'),
  trigger: z.object({ event: z.string() }),
  exitEvents: z.array(z.string()),
  reentry: z.enum(['never', 'afterCompletion']),
  steps: z.array(stepOut),
  stepCounts: z.record(z.string(), counts),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const stepJson = (s: Step): Record<string, unknown> => {
  if (s.type !== 'message') return { ...s };
  const { committed, ...rest } = s;
  return {
    ...rest,
    committed: committed ? { committedAt: committed.committedAt, name: committed.name, subject: committed.subject, messageId: committed.messageId } : null,
  };
};

const conversationJson = (c: Conversation): z.infer<typeof conversationOut> => ({
  id: c.id,
  name: c.name,
  status: c.status,
  version: c.version,
  trigger: c.draft.trigger,
  exitEvents: c.draft.exitEvents,
  reentry: c.draft.reentry,
  steps: c.draft.steps.map(stepJson),
  stepCounts: c.stepCounts,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export const enrollmentOut = z.object({
  id: z.string(),
  conversationId: z.string(),
  contactId: z.string(),
  version: z.number(),
  status: z.enum(['active', 'held', 'failed', 'completed', 'exited']).describe('held: the conversation is paused; failed: parked after its last attempt, see lastError (resume it with …/resume)'),
  exitReason: z.string().nullable(),
  stepIndex: z.number(),
  nextDueAt: z.string().nullable(),
  attempts: z.number().describe('failed attempts at the current step (0 once the run moves on)'),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      stepId: z.string(),
      outcome: z.string(),
      at: z.string(),
      code: z.string().optional(),
      expiresAt: z.string().nullable().optional(),
      messageId: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});

export function conductorRoutes(app: HttpApp, conductor: ConductorService) {
  const tags = ['conversations'];
  app.get(
    '/v1/conversations',
    { schema: { tags, summary: 'Conversations, with per-step counts', querystring: pageQuery, response: { 200: z.object({ items: z.array(conversationOut), nextCursor: z.string().nullable() }) } } },
    async (request) => {
      const page = await conductor.listConversations(principalOf(request), request.query);
      return { items: page.items.map(conversationJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/conversations',
    {
      schema: {
        tags,
        summary: 'Create a conversation (a draft); steps get ids',
        description: 'Steps: `delay` {duration: ISO-8601, PT0S allowed}, `action` {action: assignCoupon {merchantId, poolId, saveCodeTo, saveExpirationTo?, whenNoCode} or setField {field, value}}, `message` {messageId}.',
        body: conversationInput,
        response: { 201: conversationOut },
      },
    },
    async (request, reply) => reply.status(201).send(conversationJson(await conductor.createConversation(principalOf(request), request.body))),
  );

  app.get(
    '/v1/conversations/:conversationId',
    { schema: { tags, summary: 'One conversation: its draft, live version and per-step counts', params, response: { 200: conversationOut } } },
    async (request) => conversationJson(await conductor.getConversation(principalOf(request), request.params.conversationId)),
  );

  app.put(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'Replace the draft (add, move, rename, configure or remove steps)',
        description: 'Steps sent with their `id` keep it (and a message step keeps its commit while it names the same message); steps without one are new. The live version changes only on publish.',
        params,
        body: conversationInput,
        response: { 200: conversationOut },
      },
    },
    async (request) => conversationJson(await conductor.updateConversation(principalOf(request), request.params.conversationId, request.body)),
  );

  app.post(
    '/v1/conversations/:conversationId/steps/:stepId/commit',
    { schema: { tags, summary: "Freeze the step's message as it is now", params: stepParams, response: { 200: conversationOut } } },
    async (request) => conversationJson(await conductor.commitStep(principalOf(request), request.params.conversationId, request.params.stepId)),
  );

  app.post(
    '/v1/conversations/:conversationId/check',
    { schema: { tags, summary: 'The publish checks for the draft, without publishing', params, response: { 200: z.object({ valid: z.boolean(), errors: z.array(issue), warnings: z.array(issue) }) } } },
    async (request) => {
      const r = await conductor.checkDraft(principalOf(request), request.params.conversationId);
      return { valid: r.errors.length === 0, ...r };
    },
  );

  app.post(
    '/v1/conversations/:conversationId/publish',
    {
      schema: {
        tags,
        summary: 'Validate the draft and make it the live version',
        description: '422 `publish_refused` with `details: [{stepId, field, message}]` (and `warnings`) when the draft has errors. Runs in progress finish on the version they started.',
        params,
        response: { 200: z.object({ version: z.number(), warnings: z.array(issue) }) },
      },
    },
    async (request) => conductor.publish(principalOf(request), request.params.conversationId),
  );

  app.post(
    '/v1/conversations/:conversationId/pause',
    { schema: { tags, summary: 'No new enrollments; runs hold where they are', params, response: { 200: conversationOut } } },
    async (request) => conversationJson(await conductor.setPaused(principalOf(request), request.params.conversationId, true)),
  );

  app.post(
    '/v1/conversations/:conversationId/resume',
    { schema: { tags, summary: 'Resume a paused conversation', params, response: { 200: conversationOut } } },
    async (request) => conversationJson(await conductor.setPaused(principalOf(request), request.params.conversationId, false)),
  );

  app.get(
    '/v1/conversations/:conversationId/enrollments',
    { schema: { tags, summary: 'Runs of a conversation, oldest first, with their steps', params, querystring: pageQuery, response: { 200: z.object({ items: z.array(enrollmentOut), nextCursor: z.string().nullable() }) } } },
    async (request) => {
      const page = await conductor.listEnrollments(principalOf(request), request.params.conversationId, request.query);
      return { items: page.items.map(enrollmentView), nextCursor: page.nextCursor };
    },
  );
}

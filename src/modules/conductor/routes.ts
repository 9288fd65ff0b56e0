import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { conductorSettings, conversationInput, conversationOut, enrollmentOut, publishIssue, stepJson } from './model.ts';
import { enrollmentView, type Conversation, type ConductorService } from './service.ts';

const params = z.object({ conversationId: z.string().max(100) });
const stepParams = params.extend({ stepId: z.string().max(100) });
const issue = publishIssue;

const conversationJson = (c: Conversation): z.infer<typeof conversationOut> => ({
  id: c.id,
  name: c.name,
  status: c.status,
  version: c.version,
  trigger: c.draft.trigger,
  sendWindow: c.draft.sendWindow ?? null,
  exitEvents: c.draft.exitEvents,
  reentry: c.draft.reentry,
  exitOnRedemption: c.draft.exitOnRedemption ?? false,
  steps: c.draft.steps.map(stepJson),
  stepCounts: c.stepCounts,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export function conductorRoutes(app: HttpApp, conductor: ConductorService) {
  const tags = ['conversations'];
  app.get(
    '/v1/conversations',
    {
      schema: {
        tags,
        summary: 'Conversations, with per-step counts',
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(conversationOut), nextCursor: z.string().nullable() }) },
      },
    },
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
        description:
          'Steps: `delay` {duration: ISO-8601, PT0S allowed}, `action` {action: assignCoupon {merchantId, poolId, saveCodeTo, saveExpirationTo?, whenNoCode} or setField {field, value}}, `message` {messageId}, `split` {branches: [{name, condition, steps}], otherwise: {steps}}, `waitForEvent` {event, within, received: {steps}, timedOut: {steps}} (branches nest 5 levels at most). Conditions: {field: "Group.Field", op, value}, {event: "properties.<name>", op, value}, {coupon: stepId, is}, {all}, {any}, {not}. `trigger.where` filters the trigger (event conditions); `sendWindow` {start, end, days?} holds messages outside it (account zone).',
        body: conversationInput,
        response: { 201: conversationOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(conversationJson(await conductor.createConversation(principalOf(request), request.body))),
  );

  app.get(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'One conversation: its draft, live version and per-step counts',
        params,
        response: { 200: conversationOut },
      },
    },
    async (request) => conversationJson(await conductor.getConversation(principalOf(request), request.params.conversationId)),
  );

  app.put(
    '/v1/conversations/:conversationId',
    {
      schema: {
        tags,
        summary: 'Replace the draft (add, move, rename, configure or remove steps)',
        description:
          'Steps sent with their `id` keep it (and a message step keeps its commit while it names the same message); steps without one are new. The live version changes only on publish.',
        params,
        body: conversationInput,
        response: { 200: conversationOut },
      },
    },
    async (request) =>
      conversationJson(await conductor.updateConversation(principalOf(request), request.params.conversationId, request.body)),
  );

  app.post(
    '/v1/conversations/:conversationId/steps/:stepId/commit',
    { schema: { tags, summary: "Freeze the step's message as it is now", params: stepParams, response: { 200: conversationOut } } },
    async (request) =>
      conversationJson(await conductor.commitStep(principalOf(request), request.params.conversationId, request.params.stepId)),
  );

  app.post(
    '/v1/conversations/:conversationId/check',
    {
      schema: {
        tags,
        summary: 'The publish checks for the draft, without publishing',
        params,
        response: { 200: z.object({ valid: z.boolean(), errors: z.array(issue), warnings: z.array(issue) }) },
      },
    },
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
        description:
          '422 `publish_refused` with `details: [{stepId, field, message}]` (and `warnings`) when the draft has errors. Runs in progress finish on the version they started.',
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
    {
      schema: {
        tags,
        summary: 'Runs of a conversation, oldest first, with their steps',
        params,
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(enrollmentOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await conductor.listEnrollments(principalOf(request), request.params.conversationId, request.query);
      return { items: page.items.map(enrollmentView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/conductor/settings',
    { schema: { tags, summary: "The account's conductor settings: its frequency cap", response: { 200: conductorSettings } } },
    async (request) => conductor.settings(principalOf(request)),
  );

  app.put(
    '/v1/conductor/settings',
    {
      schema: {
        tags,
        summary: 'Set the frequency cap: at most `messages` marketing mails per contact in any `perDays` days (null: none)',
        description: 'A message step that would exceed the cap is skipped (outcome `capped`) and the run goes on.',
        body: conductorSettings,
        response: { 200: conductorSettings },
      },
    },
    async (request) => conductor.saveSettings(principalOf(request), request.body),
  );
}

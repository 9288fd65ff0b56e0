import { z } from 'zod';
import { emailField } from '../../platform/email.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { MAX_SOURCE_CHARS } from './liquid.ts';
import type { MessagesService } from './service.ts';
import { MAX_TEST_RECIPIENTS, type TestSendService } from './test-send.ts';
import { messageOut, renderedOut, type Message } from './model.ts';

const messageBody = z.object({
  name: z.string().trim().min(1).max(200),
  fromName: z.string().trim().min(1).max(200),
  fromEmail: emailField(),
  subject: z.string().min(1).max(2000),
  html: z.string().min(1).max(MAX_SOURCE_CHARS),
  text: z.string().max(MAX_SOURCE_CHARS).nullable().optional(),
});

const messageJson = (m: Message): z.infer<typeof messageOut> => ({
  id: m.id,
  name: m.name,
  fromName: m.fromName,
  fromEmail: m.fromEmail,
  subject: m.subject,
  html: m.html,
  text: m.text,
  createdAt: m.createdAt.toISOString(),
  updatedAt: m.updatedAt.toISOString(),
});

const params = z.object({ id: z.string().max(100) });
const settings = (b: z.infer<typeof messageBody>) => ({ ...b, text: b.text ?? null });

export function messagesRoutes(app: HttpApp, messages: MessagesService, testSends?: TestSendService) {
  app.get(
    '/v1/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'List messages',
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(messageOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await messages.listMessages(principalOf(request), request.query);
      return { items: page.items.map(messageJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Create a message; subject and bodies are Liquid templates over contact and the field groups',
        description:
          'A template error (syntax, unknown group or field) → 422 template_invalid with details [{field, line, column, message}].',
        body: messageBody,
        response: { 201: messageOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(messageJson(await messages.createMessage(principalOf(request), settings(request.body)))),
  );

  app.get(
    '/v1/messages/:id',
    { schema: { tags: ['messages'], summary: 'Read a message', params, response: { 200: messageOut } } },
    async (request) => messageJson(await messages.getMessage(principalOf(request), request.params.id)),
  );

  app.put(
    '/v1/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'Replace a message (validated like a new one)',
        params,
        body: messageBody,
        response: { 200: messageOut },
      },
    },
    async (request) => messageJson(await messages.updateMessage(principalOf(request), request.params.id, settings(request.body))),
  );

  app.delete(
    '/v1/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'Delete a message no conversation sends → 204',
        description:
          '409 `message_in_use` while a step of a live or paused conversation, of a version with runs in progress, or of an unarchived draft sends it (committed or not); `details` names the conversations and steps. Mail already sent stays in the outbox.',
        params,
      },
    },
    async (request, reply) => {
      await messages.deleteMessage(principalOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/messages/:id/preview',
    {
      schema: {
        tags: ['messages'],
        summary: 'Render a message for a contact (by contactId or email): sends nothing, assigns nothing',
        params,
        body: z.object({ contactId: z.string().max(100).optional(), email: z.string().max(320).optional() }),
        response: { 200: renderedOut },
      },
    },
    async (request) => messages.preview(principalOf(request), request.params.id, request.body),
  );

  if (testSends) {
    app.post(
      '/v1/messages/:id/test',
      {
        schema: {
          tags: ['messages'],
          summary:
            'Test send: render for a contact (contactId or email) or a sample one, to up to 10 addresses, subject "[Test] …", kind test',
          description: 'Coupon fields without a code show TEST-CODE. Assigns no code, changes no contact, ignores the suppression list.',
          params,
          body: z.object({
            to: z
              .array(
                z
                  .string()
                  .trim()
                  .max(320)
                  .regex(/^[^\s@]+@[^\s@]+$/, 'not an email address'),
              )
              .min(1)
              .max(MAX_TEST_RECIPIENTS),
            contactId: z.string().max(100).optional(),
            email: z.string().max(320).optional(),
          }),
          response: { 202: z.object({ mailIds: z.array(z.string()) }) },
        },
      },
      async (request, reply) =>
        reply.status(202).send({ mailIds: await testSends.sendTest(principalOf(request), request.params.id, request.body) }),
    );
  }
}

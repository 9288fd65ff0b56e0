import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { OutboxService } from './service.ts';
import { mailOut, type Mail } from './model.ts';

const mailJson = (m: Mail): z.infer<typeof mailOut> => ({
  id: m.id,
  kind: m.kind,
  merchantId: m.merchantId,
  to: m.to,
  from: m.from,
  subject: m.subject,
  html: m.html,
  text: m.text,
  headers: m.headers ?? {},
  messageId: m.messageId,
  status: m.status,
  transport: m.transport,
  attempts: m.attempts,
  nextAttemptAt: m.nextAttemptAt?.toISOString() ?? null,
  // last_error keeps the server's last answer: a refusal (or transport error) while unsent, the
  // acceptance (`250 …`) once sent (outbox.sql.ts: markSentBatch).
  lastError: m.status === 'sent' ? null : m.lastError,
  smtpReply: m.lastError,
  createdAt: m.createdAt.toISOString(),
  sentAt: m.sentAt?.toISOString() ?? null,
});

export function outboxRoutes(app: HttpApp, outbox: OutboxService) {
  app.get(
    '/v1/outbox',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Mail, newest first: messages and notifications',
        description:
          'With the default `outbox` transport every mail is kept here with status `sent` (nothing leaves the server). With SMTP (`SMTP_URL`) mail is `queued` until delivered (`sent`) or until its last attempt failed (`failed`).',
        querystring: pageQuery.extend({
          to: z.string().max(320).optional(),
          kind: z.enum(['message', 'notification', 'test', 'access']).optional(),
          status: z.enum(['queued', 'sent', 'failed']).optional(),
        }),
        response: { 200: z.object({ items: z.array(mailOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await outbox.listMails(principalOf(request), request.query);
      return { items: page.items.map(mailJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/outbox/:mailId',
    {
      schema: {
        tags: ['outbox'],
        summary: 'One mail, as rendered',
        params: z.object({ mailId: z.string().max(100) }),
        response: { 200: mailOut },
      },
    },
    async (request) => mailJson(await outbox.getMail(principalOf(request), request.params.mailId)),
  );
}

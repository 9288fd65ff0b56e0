import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { forbidden } from '../../platform/errors.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { Principal } from '../accounts/principal.ts';
import { WEBHOOK_EVENTS, webhookInput, type Webhook } from './model.ts';
import type { WebhooksService } from './service.ts';

const webhookOut = z.object({ id: z.string(), url: z.string(), events: z.array(z.enum(WEBHOOK_EVENTS)), createdAt: z.string() });
const params = z.object({ webhookId: z.string().max(100) });
const json = (w: Webhook) => ({ id: w.id, url: w.url, events: w.events, createdAt: w.createdAt.toISOString() });

/** Webhooks receive every merchant's events: only a token that sees every merchant manages them. */
const unlimited = (principal: Principal) => {
  if (principal.merchantIds !== null)
    throw forbidden('Webhooks receive the events of every merchant: a token limited to some merchants cannot manage them.');
  return principal;
};

export function webhooksRoutes(app: HttpApp, webhooks: WebhooksService) {
  app.get(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Outgoing webhooks of the account',
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(webhookOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await webhooks.list(unlimited(principalOf(request)), request.query);
      return { items: page.items.map(json), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Add an outgoing webhook (the signing secret is shown in this answer only)',
        description:
          'http(s) only; loopback, link-local and private targets are refused (422 webhook_url_refused) unless WEBHOOKS_ALLOW_PRIVATE=true.',
        body: webhookInput,
        response: { 201: webhookOut.extend({ secret: z.string() }) },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(unlimited(principalOf(request)), request.body);
      return reply.status(201).send({ ...json(created), secret: created.secret });
    },
  );

  app.delete(
    '/v1/webhooks/:webhookId',
    { schema: { tags: ['webhooks'], summary: 'Remove a webhook (its queue and log go with it)', params } },
    async (request, reply) => {
      await webhooks.remove(unlimited(principalOf(request)), request.params.webhookId);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Every POST to this webhook, newest first: status, latency, the events it carried; and the queue by state',
        params,
        querystring: pageQuery,
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                at: z.string(),
                statusCode: z.number().nullable(),
                latencyMs: z.number(),
                eventIds: z.array(z.string()),
                outcome: z.enum(['delivered', 'retrying', 'failed']),
                error: z.string().nullable(),
              }),
            ),
            nextCursor: z.string().nullable(),
            queue: z.object({ queued: z.number(), delivered: z.number(), failed: z.number() }),
          }),
        },
      },
    },
    async (request) => {
      const page = await webhooks.deliveries(unlimited(principalOf(request)), request.params.webhookId, request.query);
      return { items: page.items.map((a) => ({ ...a, at: a.at.toISOString() })), nextCursor: page.nextCursor, queue: page.queue };
    },
  );
}

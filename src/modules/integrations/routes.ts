import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { errorBody } from '../../platform/http/errors.ts';
import { shopifySettingsInput, shopifyStatusOut } from './model.ts';
import type { IntegrationsService } from './service.ts';

const params = z.object({ merchantId: z.string().max(100) });
const header = (request: FastifyRequest, name: string) => {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** PUBLIC_URL, else the origin the caller reached (what Shopify must call). */
const baseUrlOf = (publicUrl: string | undefined, request: FastifyRequest) => publicUrl ?? `${request.protocol}://${request.host}`;

export async function integrationsRoutes(
  app: HttpApp,
  integrations: IntegrationsService,
  options: { publicUrl?: string | undefined; bodyLimit: number },
) {
  app.put(
    '/v1/merchants/:merchantId/integrations/shopify',
    {
      schema: {
        tags: ['integrations'],
        summary: "Connect Shopify: store the merchant's webhook secret (write-only, sealed at rest); answers the URL to paste into Shopify",
        params,
        body: shopifySettingsInput,
        response: { 200: z.object({ webhookUrl: z.string() }) },
      },
    },
    async (request) =>
      integrations.configure(
        principalOf(request),
        request.params.merchantId,
        request.body.webhookSecret,
        baseUrlOf(options.publicUrl, request),
      ),
  );

  app.get(
    '/v1/merchants/:merchantId/integrations/shopify',
    {
      schema: {
        tags: ['integrations'],
        summary: 'The Shopify connection: configured or not (never the secret), the webhook URL, the last 20 deliveries',
        params,
        response: {
          200: shopifyStatusOut,
        },
      },
    },
    async (request) => {
      const s = await integrations.status(principalOf(request), request.params.merchantId, baseUrlOf(options.publicUrl, request));
      return {
        ...s,
        updatedAt: s.updatedAt?.toISOString() ?? null,
        deliveries: s.deliveries.map((d) => ({ ...d, receivedAt: d.receivedAt.toISOString() })),
      };
    },
  );

  // The webhook itself: the raw body is needed for the HMAC, so this route alone reads every
  // content type as bytes (the body size limit still applies: 413 beyond it).
  await app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body));
    scope.post(
      '/v1/merchants/:merchantId/integrations/shopify/webhooks',
      {
        config: { public: true },
        schema: {
          tags: ['integrations'],
          summary: 'Shopify orders webhook (no token: X-Shopify-Hmac-Sha256 over the raw body)',
          description:
            'orders/create and orders/paid → redemptions (source shopify) and an order_placed event; orders/cancelled → rollback; other topics 200, ignored. Repeats of an X-Shopify-Webhook-Id do nothing. 401 for a bad or missing signature (nothing recorded); 422 for a body that is not an order (recorded as a failed delivery).',
          params,
          security: [],
        },
      },
      async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const answer = await integrations.receive(request.params.merchantId, raw, {
          hmac: header(request, 'x-shopify-hmac-sha256'),
          topic: header(request, 'x-shopify-topic'),
          webhookId: header(request, 'x-shopify-webhook-id'),
        });
        // Ignored topics and malformed orders are logged (they are also recorded as deliveries).
        if (answer.result === 'ignored' || answer.result === 'failed')
          request.log.info(
            {
              merchantId: request.params.merchantId,
              topic: header(request, 'x-shopify-topic'),
              result: answer.result,
              detail: answer.detail,
            },
            'shopify webhook not processed',
          );
        if (answer.status === 422)
          return reply
            .status(422)
            .send(errorBody('invalid_order', `The body is not a Shopify order: ${String(answer.detail.error)}`, [answer.detail]));
        return reply.status(200).send({ result: answer.result, ...answer.detail });
      },
    );
  });
}

import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { importFile } from '../../platform/http/multipart.ts';
import { REDEMPTION_SOURCES, redemptionFilterQuery, type Redemption } from './model.ts';
import type { RedemptionsService } from './service.ts';

const merchantParams = z.object({ merchantId: z.string().max(100) });
const codeText = z.string().trim().min(1).max(50);
const reasons = [
  'code_not_found',
  'not_assigned',
  'assigned_to_other',
  'expired',
  'already_redeemed',
  'pool_inactive',
  'ambiguous_code',
] as const;
const kinds = ['unique', 'static', 'default'] as const;

export const redemptionOut = z.object({
  id: z.string(),
  code: z.string(),
  poolId: z.string(),
  merchantId: z.string(),
  kind: z.enum(kinds),
  contactId: z.string().nullable(),
  email: z.string().nullable(),
  orderId: z.string(),
  amount: z.string().nullable(),
  currency: z.string().nullable(),
  redeemedAt: z.string(),
  source: z.enum(REDEMPTION_SOURCES),
  rolledBackAt: z.string().nullable(),
});

export const redemptionJson = (r: Redemption): z.infer<typeof redemptionOut> => ({
  id: r.id,
  code: r.code,
  poolId: r.poolId,
  merchantId: r.merchantId,
  kind: r.kind,
  contactId: r.contactId,
  email: r.email,
  orderId: r.orderId,
  amount: r.amount,
  currency: r.currency,
  redeemedAt: r.redeemedAt.toISOString(),
  source: r.source,
  rolledBackAt: r.rolledBackAt?.toISOString() ?? null,
});

const validateOut = z.object({
  valid: z.boolean(),
  reason: z.enum(reasons).nullable(),
  code: z.string(),
  poolId: z.string().nullable(),
  source: z.enum(kinds).nullable(),
  expiresAt: z.string().nullable(),
  contactId: z.string().nullable(),
});

export const importOut = z.object({
  status: z.enum(['imported', 'rejected']),
  lines: z.number().describe('data lines read (not the header)'),
  recorded: z.number(),
  duplicates: z.number().describe('lines whose order already holds the code (in the file or before): skipped, not errors'),
  rejected: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string() })).describe('the first 100, by line'),
  errorCount: z.number(),
});

export function redemptionsRoutes(app: HttpApp, redemptions: RedemptionsService) {
  app.post(
    '/v1/merchants/:merchantId/redemptions/import',
    {
      schema: {
        tags: ['redemptions'],
        summary:
          'Import redemptions from a CSV (multipart: the field onInvalid, then file), header code,orderId[,redeemedAt,amount,currency,email]',
        description:
          "A report source (lenient): every known code of this merchant that no other order redeemed is recorded (source file), expired or not. A code several pools hold resolves to the one assigned to the line's email; otherwise the line is reported ambiguous_code. Lines whose order already holds the code are counted as duplicates. Streamed in one transaction; onInvalid: reject (default: one line that cannot be recorded and nothing is, 422 import_rejected with the report) or skip. A file over UPLOAD_LIMIT_BYTES is refused whole (413).",
        consumes: ['multipart/form-data'],
        params: merchantParams,
        querystring: z.object({ onInvalid: z.string().optional() }),
        response: { 201: importOut },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await importFile(request, (file, onInvalid) =>
            redemptions.importCsv(principalOf(request), request.params.merchantId, { file, onInvalid }),
          ),
        ),
  );

  app.post(
    '/v1/merchants/:merchantId/codes/validate',
    {
      schema: {
        tags: ['redemptions'],
        summary: 'May this code be redeemed now? (checkout; changes nothing)',
        params: merchantParams,
        body: z.object({ code: codeText, email: z.email().max(320).optional() }),
        response: { 200: validateOut },
      },
    },
    async (request) => {
      const a = await redemptions.validate(principalOf(request), request.params.merchantId, request.body);
      return { ...a, expiresAt: a.expiresAt?.toISOString() ?? null };
    },
  );

  app.post(
    '/v1/merchants/:merchantId/redemptions',
    {
      schema: {
        tags: ['redemptions'],
        summary: 'Redeem a code for an order (checkout: atomic; 201, or 200 with the first answer for a repeated (code, orderId))',
        description: "409 with error.code = validate's reason (already_redeemed, expired, …); 404 code_not_found.",
        params: merchantParams,
        body: z.object({
          code: codeText,
          orderId: z.string().trim().min(1).max(200),
          email: z.email().max(320).optional(),
          amount: z.number().min(0).max(1e12).optional(),
          currency: z
            .string()
            .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO 4217 code')
            .optional(),
          occurredAt: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: redemptionOut, 201: redemptionOut },
      },
    },
    async (request, reply) => {
      const { occurredAt, ...rest } = request.body;
      const outcome = await redemptions.redeem(principalOf(request), request.params.merchantId, {
        ...rest,
        ...(occurredAt ? { occurredAt: new Date(occurredAt) } : {}),
      });
      return reply.status(outcome.created ? 201 : 200).send(redemptionJson(outcome.redemption));
    },
  );

  app.post(
    '/v1/redemptions/:redemptionId/rollback',
    {
      schema: {
        tags: ['redemptions'],
        summary: 'Roll a redemption back (order cancelled or refunded): it counts nowhere, a unique code is redeemable again',
        params: z.object({ redemptionId: z.string().max(100) }),
        response: { 200: redemptionOut },
      },
    },
    async (request) => redemptionJson(await redemptions.rollback(principalOf(request), request.params.redemptionId)),
  );

  app.get(
    '/v1/merchants/:merchantId/redemptions',
    {
      schema: {
        tags: ['redemptions'],
        summary: "A merchant's redemptions, oldest first",
        params: merchantParams,
        querystring: pageQuery.extend(redemptionFilterQuery.shape),
        response: { 200: z.object({ items: z.array(redemptionOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filters } = request.query;
      const page = await redemptions.list(principalOf(request), request.params.merchantId, filters, { limit, cursor });
      return { items: page.items.map(redemptionJson), nextCursor: page.nextCursor };
    },
  );
}

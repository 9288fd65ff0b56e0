import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { PoolWithCounts } from './model.ts';
import type { PoolsService } from './service.ts';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const noControlChars = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

export const poolSettingsBody = z.object({
  name: z.string().trim().min(1).max(100),
  type: z.enum(['unique', 'static']),
  expirationCutoffDays: z.number().int().min(0).max(3650).optional(),
  active: z.boolean().optional(),
  defaultCode: z.string().trim().min(1).max(50).refine(noControlChars, 'must not contain control characters').nullable().optional(),
  defaultCodeExpiresAt: z.string().max(40).nullable().optional().describe('YYYY-MM-DD, MM/DD/YYYY or ISO-8601 with offset'),
  threshold: z.number().int().min(0).nullable().optional(),
  notificationEmails: z
    .union([z.string().max(5000), z.array(z.string().max(320)).max(100)])
    .optional()
    .describe('comma- or semicolon-delimited addresses, or a list'),
  releaseUndelivered: z.boolean().optional().describe('a code a permanently refused mail carried goes back to the pool (default true)'),
});

const countsOut = z.object({
  total: z.number(),
  available: z.number(),
  assigned: z.number(),
  expired: z.number(),
  withinCutoff: z.number(),
  redeemed: z.number(),
});

export const poolOut = z.object({
  id: z.string(),
  merchantId: z.string(),
  name: z.string(),
  type: z.enum(['unique', 'static']),
  expirationCutoffDays: z.number(),
  active: z.boolean(),
  defaultCode: z.string().nullable(),
  defaultCodeExpiresAt: z.string().nullable(),
  threshold: z.number().nullable(),
  notificationEmails: z.array(z.string()),
  releaseUndelivered: z.boolean(),
  counts: countsOut,
  runsOutAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const poolJson = (p: PoolWithCounts): z.infer<typeof poolOut> => ({
  id: p.id,
  merchantId: p.merchantId,
  name: p.name,
  type: p.type,
  expirationCutoffDays: p.expirationCutoffDays,
  active: p.active,
  defaultCode: p.defaultCode,
  defaultCodeExpiresAt: p.defaultCodeExpiresAt?.toISOString() ?? null,
  threshold: p.threshold,
  notificationEmails: p.notificationEmails,
  releaseUndelivered: p.releaseUndelivered,
  counts: p.counts,
  runsOutAt: p.runsOutAt?.toISOString() ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

const poolParams = z.object({ poolId: z.string().max(100) });

export function poolsRoutes(app: HttpApp, pools: PoolsService) {
  app.get(
    '/v1/merchants/:merchantId/pools',
    {
      schema: {
        tags: ['pools'],
        summary: "List a merchant's coupon pools with their counts",
        params: z.object({ merchantId: z.string().max(100) }),
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(poolOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await pools.listPools(principalOf(request), request.params.merchantId, request.query);
      return { items: page.items.map(poolJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/merchants/:merchantId/pools',
    {
      schema: {
        tags: ['pools'],
        summary: 'Create a coupon pool',
        params: z.object({ merchantId: z.string().max(100) }),
        body: poolSettingsBody,
        response: { 201: poolOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(poolJson(await pools.createPool(principalOf(request), request.params.merchantId, request.body))),
  );

  app.get(
    '/v1/pools/:poolId',
    { schema: { tags: ['pools'], summary: 'Read a pool with its counts', params: poolParams, response: { 200: poolOut } } },
    async (request) => poolJson(await pools.getPool(principalOf(request), request.params.poolId)),
  );

  app.patch(
    '/v1/pools/:poolId',
    {
      schema: {
        tags: ['pools'],
        summary: 'Edit some settings of a pool',
        params: poolParams,
        body: poolSettingsBody.partial(),
        response: { 200: poolOut },
      },
    },
    async (request) => poolJson(await pools.updatePool(principalOf(request), request.params.poolId, request.body)),
  );
}

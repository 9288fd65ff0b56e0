import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { poolOut, poolSettingsBody, type PoolWithCounts } from './model.ts';
import type { PoolsService } from './service.ts';

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
  expiryReminderDays: p.expiryReminderDays,
  counts: p.counts,
  runsOutAt: p.runsOutAt?.toISOString() ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
  archivedAt: p.archivedAt?.toISOString() ?? null,
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
        description: 'Archived pools are listed apart: `?archived=true` lists them (and only them).',
        querystring: pageQuery.extend({ archived: z.enum(['true', 'false']).optional() }),
        response: { 200: z.object({ items: z.array(poolOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { archived, ...page0 } = request.query;
      const page = await pools.listPools(principalOf(request), request.params.merchantId, page0, archived === 'true');
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

  for (const [verb, archive] of [
    ['archive', true],
    ['unarchive', false],
  ] as const) {
    app.post(
      `/v1/pools/:poolId/${verb}`,
      {
        schema: {
          tags: ['pools'],
          summary: archive
            ? 'Archive a pool: it distributes nothing, takes no codes, and is listed apart'
            : 'Unarchive a pool: it is listed and distributes again',
          ...(archive && {
            description:
              '409 pool_in_use while a live or paused conversation (or a run in progress) uses it; `details` names the conversations.',
          }),
          params: poolParams,
          response: { 200: poolOut },
        },
      },
      async (request) => poolJson(await pools.setArchived(principalOf(request), request.params.poolId, archive)),
    );
  }
}

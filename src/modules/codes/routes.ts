import { z } from 'zod';
import { Readable } from 'node:stream';
import { csvExport } from '../../platform/csv.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { CodeRow, CodesService } from './service.ts';

const poolParams = z.object({ poolId: z.string().max(100) });
const filterQuery = z.object({
  status: z.enum(['available', 'assigned', 'redeemed', 'expired']).optional(),
  q: z.string().trim().min(1).max(320).optional().describe('a code prefix, or a contact email'),
  uploadId: z.string().max(100).optional().describe('only the codes of this upload (or generate) of the pool'),
});
const codeOut = z.object({
  code: z.string(),
  status: z.enum(['available', 'assigned', 'redeemed', 'expired']),
  expiresAt: z.string().nullable(),
  contactId: z.string().nullable(),
  email: z.string().nullable(),
  assignedAt: z.string().nullable(),
  redeemedAt: z.string().nullable(),
  uploadId: z.string().nullable().describe('the upload or generate that brought the code (null for codes older than that record)'),
});
const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
const codeJson = (c: CodeRow): z.infer<typeof codeOut> => ({
  code: c.code,
  status: c.status,
  expiresAt: iso(c.expires_at),
  contactId: c.contact_id,
  email: c.email,
  assignedAt: iso(c.assigned_at),
  redeemedAt: iso(c.redeemed_at),
  uploadId: c.upload_id,
});

const COLUMNS = ['code', 'status', 'expiresAt', 'contactId', 'email', 'assignedAt', 'redeemedAt', 'uploadId'] as const;

export function codesRoutes(app: HttpApp, codes: CodesService) {
  app.get(
    '/v1/pools/:poolId/codes',
    {
      schema: {
        tags: ['codes'],
        summary: "A pool's unique codes with their status, in code order",
        params: poolParams,
        querystring: pageQuery.extend(filterQuery.shape),
        response: { 200: z.object({ items: z.array(codeOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await codes.listCodes(principalOf(request), request.params.poolId, filter, { limit, cursor });
      return { items: page.items.map(codeJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/pools/:poolId/codes/export',
    {
      schema: {
        tags: ['codes'],
        summary: "A pool's codes as CSV (streamed; same filters as the list)",
        params: poolParams,
        querystring: filterQuery,
      },
    },
    async (request, reply) => {
      const pages = await codes.exportCodes(principalOf(request), request.params.poolId, request.query);
      const rows = (async function* () {
        for await (const page of pages) for (const c of page) yield COLUMNS.map((k) => codeJson(c)[k] ?? '');
      })();
      const csv = Readable.from(rows).pipe(csvExport(COLUMNS));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="codes-${request.params.poolId}.csv"`)
        .send(csv);
    },
  );
}

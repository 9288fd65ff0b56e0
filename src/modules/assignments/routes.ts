import { z } from 'zod';
import { Readable } from 'node:stream';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { csvExport } from '../../platform/csv.ts';
import { emailField } from '../../platform/email.ts';
import type { AssignmentsService } from './service.ts';

const poolParams = z.object({ poolId: z.string().max(100) });
const assignmentOut = z.object({
  id: z.string(),
  code: z.string(),
  expiresAt: z.string().nullable(),
  source: z.enum(['unique', 'static', 'default']),
  contactId: z.string(),
  email: z.string(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
});
type Row = { id: string; code: string; expiresAt: Date | null; source: 'unique' | 'static' | 'default'; contactId: string; email: string; idempotencyKey: string; createdAt: Date };
const assignmentJson = (a: Row) => ({
  id: a.id,
  code: a.code,
  expiresAt: a.expiresAt?.toISOString() ?? null,
  source: a.source,
  contactId: a.contactId,
  email: a.email,
  idempotencyKey: a.idempotencyKey,
  createdAt: a.createdAt.toISOString(),
});

export function assignmentsRoutes(app: HttpApp, assignments: AssignmentsService) {
  app.post(
    '/v1/pools/:poolId/assignments',
    {
      schema: {
        tags: ['assignments'],
        summary: 'Hand a contact one code (201; the same answer with 200 for a repeated idempotency key)',
        description: '409 pool_exhausted when no eligible code and no default code is left; 409 pool_inactive when the pool is not active.',
        params: poolParams,
        body: z
          .object({
            email: emailField().optional(),
            contactId: z.string().max(100).optional(),
            idempotencyKey: z.string().min(1).max(200),
          })
          .refine((b) => Boolean(b.email) !== Boolean(b.contactId), { message: 'give either email or contactId', path: ['email'] }),
        response: { 200: assignmentOut, 201: assignmentOut },
      },
    },
    async (request, reply) => {
      const result = await assignments.assign(principalOf(request), request.params.poolId, request.body);
      return reply.status(result.created ? 201 : 200).send(assignmentJson({ ...result.assignment, email: result.email }));
    },
  );

  app.get(
    '/v1/pools/:poolId/assignments',
    {
      schema: {
        tags: ['assignments'],
        summary: "A pool's assignments, oldest first",
        params: poolParams,
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(assignmentOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await assignments.listAssignments(principalOf(request), request.params.poolId, request.query);
      return { items: page.items.map(assignmentJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/pools/:poolId/assignments/export',
    { schema: { tags: ['assignments'], summary: "Every assignment of a pool as CSV", params: poolParams } },
    async (request, reply) => {
      const pages = assignments.exportAssignments(principalOf(request), request.params.poolId);
      // Fetch the first page before answering, so that a missing pool is a clean 404.
      const first = await pages.next();
      const rows = (async function* () {
        if (!first.done) for (const a of first.value) yield assignmentJson(a);
        for await (const page of pages) for (const a of page) yield assignmentJson(a);
      })();
      const csv = Readable.from(rows).pipe(csvExport(['id', 'code', 'expiresAt', 'source', 'contactId', 'email', 'idempotencyKey', 'createdAt']));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="assignments-${request.params.poolId}.csv"`)
        .send(csv);
    },
  );
}

import { z } from 'zod';
import { Readable } from 'node:stream';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { csvExport } from '../../platform/csv.ts';
import { emailField } from '../../platform/email.ts';
import type { AssignmentsService } from './service.ts';
import { assignmentFilterQuery, assignmentOut, listedAssignmentOut, type AssignmentStatus } from './model.ts';

const poolParams = z.object({ poolId: z.string().max(100) });
const listedOut = listedAssignmentOut;
type Row = {
  id: string;
  code: string;
  expiresAt: Date | null;
  source: 'unique' | 'static' | 'default';
  contactId: string;
  email: string | null;
  idempotencyKey: string;
  createdAt: Date;
  status?: AssignmentStatus;
};
/** The email stays as typed: a string for a fresh assignment, null in a list for an erased contact. */
const assignmentJson = <R extends Row>(a: R) => ({
  id: a.id,
  code: a.code,
  expiresAt: a.expiresAt?.toISOString() ?? null,
  source: a.source,
  contactId: a.contactId,
  email: a.email as R['email'],
  idempotencyKey: a.idempotencyKey,
  createdAt: a.createdAt.toISOString(),
  ...(a.status && { status: a.status }),
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
        summary: "A pool's assignments, oldest first (filter: ?status=&q=)",
        params: poolParams,
        querystring: pageQuery.extend(assignmentFilterQuery.shape),
        response: { 200: z.object({ items: z.array(listedOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { status, q, ...page } = request.query;
      const found = await assignments.listAssignments(principalOf(request), request.params.poolId, page, { status, q });
      return { items: found.items.map((a) => ({ ...assignmentJson(a), status: a.status })), nextCursor: found.nextCursor };
    },
  );

  app.get(
    '/v1/pools/:poolId/assignments/export',
    {
      schema: {
        tags: ['assignments'],
        summary: 'Every assignment of a pool as CSV (streamed; the same ?status=&q= filters as the list)',
        params: poolParams,
        querystring: assignmentFilterQuery,
      },
    },
    async (request, reply) => {
      const pages = assignments.exportAssignments(principalOf(request), request.params.poolId, request.query);
      // Fetch the first page before answering, so that a missing pool is a clean 404.
      const first = await pages.next();
      const rows = (async function* () {
        if (!first.done) for (const a of first.value) yield assignmentJson(a);
        for await (const page of pages) for (const a of page) yield assignmentJson(a);
      })();
      const csv = Readable.from(rows).pipe(
        csvExport(['id', 'code', 'expiresAt', 'source', 'contactId', 'email', 'idempotencyKey', 'createdAt', 'status']),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="assignments-${request.params.poolId}.csv"`)
        .send(csv);
    },
  );
}

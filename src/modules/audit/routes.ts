import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { runAsUnitOfWork } from '../../platform/db/unit-of-work.ts';
import { ruleOf } from '../accounts/permissions.ts';
import { principalOf } from '../accounts/principal.ts';
import { auditEntry, auditQuery, summarize } from './model.ts';
import type { AuditService } from './service.ts';

/**
 * Every state-changing call runs as a unit of work carrying its audit entry (service.ts): the
 * database driver writes the entry inside the change's own transaction, so a change that rolls
 * back leaves no entry, and an entry never lacks its change. The action comes from the permission
 * table (accounts/permissions.ts); the summary names the fields sent, never their values.
 */
export function auditHook(app: HttpApp, audit: AuditService) {
  app.addHook('preHandler', (request, _reply, done) => {
    const url = request.routeOptions.url;
    const rule = url ? ruleOf(request.method, url) : undefined;
    const principal = request.principal;
    if (!principal || !url || !rule?.audit) return done();
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const lastParam = [...url.matchAll(/:(\w+)/g)].pop()?.[1];
    const source = rule.id ?? lastParam;
    const resourceId = source === 'new' ? 'new' : source && source !== 'none' ? (params[source] ?? null) : null;
    const record = audit.record({
      principal,
      route: `${request.method} ${url}`,
      action: rule.audit,
      resourceId,
      summary: summarize(rule.audit, request.isMultipart() ? undefined : request.body),
    });
    runAsUnitOfWork(record, done);
  });
}

export function auditRoutes(app: HttpApp, audit: AuditService) {
  app.get(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first: who changed what (filters: actor, action, resource, time)',
        querystring: auditQuery,
        response: { 200: z.object({ items: z.array(auditEntry), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => audit.list(principalOf(request), request.query),
  );
}

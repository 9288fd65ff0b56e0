import { z } from 'zod';

/** The audit log's contract (endpoint table): pure schemas, shared with the console. */
export const auditEntry = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ type: z.enum(['token', 'user']), id: z.string(), name: z.string() }),
  action: z.string(),
  route: z.string(),
  resource: z.object({ type: z.string(), id: z.string().nullable() }),
  summary: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
  actorType: z.enum(['token', 'user']).optional(),
  actorId: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  resourceType: z.string().max(100).optional(),
  resourceId: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});
export type AuditQuery = z.infer<typeof auditQuery>;

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/**
 * The summary of a change: the action and the names of the fields it sent, never their values
 * (values carry secrets and personal data: passwords, webhook secrets, email addresses).
 */
export function summarize(action: string, body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return action;
  const names = Object.keys(body)
    .filter((k) => FIELD_NAME.test(k))
    .sort();
  if (!names.length) return action;
  const shown = names.slice(0, 12).join(', ');
  return `${action}: ${shown}${names.length > 12 ? ', …' : ''}`;
}

import { z } from 'zod';

/** A unique code claimed for an assignment (assignments.sql.ts). */
export interface ClaimedCode {
  id: number;
  code: string;
  /** null: the code never expires. */
  expiresAt: Date | null;
}

export type AssignmentSource = 'unique' | 'static' | 'default';
export type AssignFailure = 'pool_inactive' | 'pool_exhausted';

export interface Assignment {
  id: string;
  poolId: string;
  contactId: string;
  idempotencyKey: string;
  source: AssignmentSource;
  code: string;
  codeId: number | null;
  expiresAt: Date | null;
  createdAt: Date;
}

export interface AssignRequest {
  contactId: string;
  idempotencyKey: string;
}

export type AssignOutcome = { ok: true; assignment: Assignment; created: boolean } | { ok: false; reason: AssignFailure };

/** What a static pool hands out now: its open window's code, or nothing. */
export interface StaticOffer {
  code: string;
  expiresAt: Date | null;
}

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const assignmentOut = z.object({
  id: z.string(),
  code: z.string(),
  expiresAt: z.string().nullable(),
  source: z.enum(['unique', 'static', 'default']),
  contactId: z.string(),
  email: z.string(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
});
export type AssignmentJson = z.infer<typeof assignmentOut>;

/** Where a listed assignment stands now. */
export const ASSIGNMENT_STATUSES = ['assigned', 'redeemed', 'expired', 'released'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];
/** In the list: the assignment and where it stands now. */
export const listedAssignmentOut = assignmentOut.extend({
  email: z.string().nullable().describe('null: the contact was erased (the assignment stays, its code used)'),
  status: z.enum(ASSIGNMENT_STATUSES),
});
export type ListedAssignmentJson = z.infer<typeof listedAssignmentOut>;

/** A pool's assignment list's filters (GET /v1/pools/{poolId}/assignments and its CSV export). */
export const assignmentFilterQuery = z.object({
  status: z
    .enum(ASSIGNMENT_STATUSES)
    .optional()
    .describe('released: a bounced mail gave the code back; redeemed: an order used it; expired; assigned: none of these'),
  q: z.string().trim().min(1).max(320).optional().describe('a code prefix or an email prefix, case-insensitive'),
});
export type AssignmentFilter = z.input<typeof assignmentFilterQuery>;

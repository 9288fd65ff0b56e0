import { z } from 'zod';
import type { Pool } from '../pools/model.ts';

/** A unique code claimed for an assignment (claim.ts). */
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

export type AssignOutcome =
  | { ok: true; assignment: Assignment; created: boolean }
  | { ok: false; reason: AssignFailure };

/** What a static pool hands out now: its open window's code, or nothing. */
export interface StaticOffer {
  code: string;
  expiresAt: Date | null;
}

/**
 * Decides, in request order, what each new request gets: claimed unique codes first (already in
 * expiration order), then the static offer, then the default code; else the pool is exhausted.
 * Pure: the claimed codes, the offer and `now` are inputs.
 */
export function planAssignments(args: {
  pool: Pick<Pool, 'id' | 'active' | 'defaultCode' | 'defaultCodeExpiresAt'>;
  requests: AssignRequest[];
  claimed: ClaimedCode[];
  staticOffer: StaticOffer | undefined;
  now: Date;
  newId: () => string;
}): { planned: Map<string, AssignOutcome>; unused: ClaimedCode[] } {
  const { pool, now } = args;
  const planned = new Map<string, AssignOutcome>();
  const codes = [...args.claimed];
  for (const request of args.requests) {
    if (!pool.active) {
      planned.set(request.idempotencyKey, { ok: false, reason: 'pool_inactive' });
      continue;
    }
    const base = { id: args.newId(), poolId: pool.id, contactId: request.contactId, idempotencyKey: request.idempotencyKey, createdAt: now };
    const code = codes.shift();
    let assignment: Assignment | undefined;
    if (code) assignment = { ...base, source: 'unique', code: code.code, codeId: code.id, expiresAt: code.expiresAt };
    else if (args.staticOffer) assignment = { ...base, source: 'static', code: args.staticOffer.code, codeId: null, expiresAt: args.staticOffer.expiresAt };
    else if (pool.defaultCode) assignment = { ...base, source: 'default', code: pool.defaultCode, codeId: null, expiresAt: pool.defaultCodeExpiresAt };
    planned.set(request.idempotencyKey, assignment ? { ok: true, assignment, created: true } : { ok: false, reason: 'pool_exhausted' });
  }
  return { planned, unused: codes };
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

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

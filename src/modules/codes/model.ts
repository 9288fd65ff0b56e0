/** Codes out: the shapes the API answers and the console reads. Pure: no I/O. */

export type CodeStatus = 'available' | 'assigned' | 'redeemed' | 'expired';
export const CODE_STATUSES: readonly CodeStatus[] = ['available', 'assigned', 'redeemed', 'expired'];

/** One code of GET /v1/pools/{id}/codes (JSON). */
export interface CodeJson {
  code: string;
  status: CodeStatus;
  expiresAt: string | null;
  contactId: string | null;
  email: string | null;
  assignedAt: string | null;
  redeemedAt: string | null;
  uploadId: string | null;
}

/** The list's and the export's query: status, search (code prefix or email), upload. */
export interface CodesQuery {
  status?: CodeStatus | undefined;
  q?: string | undefined;
  uploadId?: string | undefined;
}

/** Where a pool's codes are exported (CSV, streamed), with the same filters as the list. */
export function exportPath(poolId: string, query: CodesQuery): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  const qs = params.toString();
  return `/v1/pools/${encodeURIComponent(poolId)}/codes/export${qs ? `?${qs}` : ''}`;
}

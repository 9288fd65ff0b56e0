/** The console's calls for redemptions and codes: the REST API, with the server's own shapes. */
import { postFile, request, type ApiErrorBody, type Page } from '../../api.ts';
import type {
  RedemptionFilters,
  RedemptionImportReport,
  RedemptionJson,
  RedemptionSource,
} from '../../../../src/modules/redemptions/model.ts';
import type { CodeJson, CodesQuery } from '../../../../src/modules/codes/model.ts';

export type { RedemptionFilters, RedemptionImportReport, RedemptionJson, RedemptionSource, CodeJson, CodesQuery };

const query = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};
const enc = encodeURIComponent;

export const redemptionsApi = {
  list: (merchantId: string, filters: RedemptionFilters, cursor?: string) =>
    request<Page<RedemptionJson>>('GET', `/v1/merchants/${enc(merchantId)}/redemptions${query({ ...filters, limit: 50, cursor })}`),
  rollback: (id: string) => request<RedemptionJson>('POST', `/v1/redemptions/${enc(id)}/rollback`, {}),
  codes: (poolId: string, q: CodesQuery, cursor?: string) =>
    request<Page<CodeJson>>('GET', `/v1/pools/${enc(poolId)}/codes${query({ ...q, limit: 50, cursor })}`),
};

/**
 * POST …/redemptions/import with upload progress (XHR: fetch reports none). A rejected file
 * resolves too: its report says `rejected` (the 422 carries it).
 */
export function importRedemptions(
  merchantId: string,
  file: File,
  onInvalid: 'reject' | 'skip',
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<RedemptionImportReport> {
  return postFile<RedemptionImportReport>(`/v1/merchants/${enc(merchantId)}/redemptions/import`, [['onInvalid', onInvalid]], file, {
    onProgress,
    signal,
    what: 'import',
    cancelled: 'Import cancelled: nothing was recorded.',
    accepted: (status, body) => {
      const err = body as (ApiErrorBody & { import?: RedemptionImportReport }) | undefined;
      return status === 422 && err?.error?.code === 'import_rejected' && err.import ? err.import : undefined;
    },
  });
}

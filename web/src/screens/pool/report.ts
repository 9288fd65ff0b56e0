import { useQuery } from '@tanstack/react-query';
import { request, type Pool } from '../../api.ts';
import type { PoolReport } from '../../../../src/modules/reports/model.ts';

export type { PoolReport };

/** How many recorded days the pool page asks for. */
export const REPORT_DAYS = 90;

/** The pool's report (GET /v1/pools/{id}/report); refetched when the pool's counts change. */
export function usePoolReport(pool: Pool) {
  return useQuery({
    queryKey: ['report', pool.id, pool.updatedAt, pool.counts.available, pool.counts.assigned],
    queryFn: () => request<PoolReport>('GET', `/v1/pools/${encodeURIComponent(pool.id)}/report?days=${REPORT_DAYS}`),
  });
}

/** 0.4567 → "45.7%". */
export const fmtRate = (rate: number | null): string => (rate === null ? '—' : `${(rate * 100).toFixed(1).replace(/\.0$/, '')}%`);

/** Hours → "5 h", "2.5 days". */
export function fmtHours(hours: number | null): string {
  if (hours === null) return '—';
  if (hours < 48) return `${Math.round(hours * 10) / 10} h`;
  return `${Math.round((hours / 24) * 10) / 10} days`;
}

/** An exact decimal string with its currency, grouped by thousands without passing through a float. */
export function fmtMoney(amount: string, currency: string): string {
  const [whole = '0', cents] = amount.replace(/^-/, '').split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${amount.startsWith('-') ? '−' : ''}${grouped}${cents ? `.${cents}` : ''} ${currency}`;
}

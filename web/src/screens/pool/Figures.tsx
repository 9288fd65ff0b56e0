import type { Pool } from '../../api.ts';
import { ErrorBanner } from '../../ui.tsx';
import { fmtHours, fmtMoney, fmtRate, usePoolReport } from './report.ts';

/** Redeemed, the redemption rate, the median time to redeem and the revenue, from the pool's report. */
export function RedemptionFigures({ pool }: { pool: Pool }) {
  const report = usePoolReport(pool);
  if (report.error) return <ErrorBanner error={report.error} />;
  const r = report.data;
  const items: [string, string, string, string?][] = [
    ['redeemed', 'Redeemed', r ? r.redeemed.toLocaleString('en-US') : '…'],
    ['redemptionRate', 'Redemption rate', r ? fmtRate(r.redemptionRate) : '…', 'Assignments redeemed at least once, of all assignments'],
    ['medianHoursToRedeem', 'Median time to redeem', r ? fmtHours(r.medianHoursToRedeem) : '…', 'From the assignment to the redemption'],
    ['revenue', 'Revenue', r ? (r.revenue.length ? r.revenue.map((x) => fmtMoney(x.amount, x.currency)).join(' · ') : '—') : '…'],
  ];
  return (
    <dl className="counts" aria-label="Redemptions" aria-busy={!r}>
      {items.map(([key, label, value, title]) => (
        <div key={key} data-count={key} title={title}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

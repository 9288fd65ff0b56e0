import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, type Pool, type StaticRow } from '../../api.ts';
import { dayIn, fmtNumber, localDay, useTimeZone } from '../../ui.tsx';

/**
 * What a static pool's numbers mean for one shared code at a time: which row is live now, until
 * when, and what comes next (no run-out forecast: a shared code does not run out).
 */
export function StaticSummary({ pool }: { pool: Pool }) {
  const zone = useTimeZone();
  const saved = useQuery({ queryKey: ['static', pool.id], queryFn: () => api.staticRows(pool.id) });
  const rows = saved.data?.rows ?? [];
  const now = Date.now();
  // Row numbers are the table's: the order the rows were saved in, from 1.
  const numbered = rows.map((row, i) => ({ row, n: i + 1 }));
  const live = numbered.find(({ row }) => Date.parse(row.beginDistribution) <= now && now <= Date.parse(row.endDistribution));
  const next = numbered
    .filter(({ row }) => Date.parse(row.beginDistribution) > now)
    .sort((a, b) => Date.parse(a.row.beginDistribution) - Date.parse(b.row.beginDistribution))[0];
  const day = (iso: string | null) => localDay(dayIn(iso, zone));
  const expiry = (r: StaticRow) =>
    r.daysAfterDistribution !== null
      ? `expires ${r.daysAfterDistribution} days after it is handed out`
      : r.expiresOn
        ? `expires ${day(r.expiresOn)}`
        : 'never expires';
  const items: [string, string, ReactNode][] = [
    [
      'live',
      'Live now',
      live ? (
        <>
          <code>{live.row.code}</code> (row {live.n}), handed out until {day(live.row.endDistribution)}; {expiry(live.row)}
        </>
      ) : pool.defaultCode ? (
        <>
          no row; the default code <code>{pool.defaultCode}</code> is handed out
        </>
      ) : (
        'no row; contacts get no code until one begins'
      ),
    ],
    [
      'next',
      'Next',
      next ? (
        <>
          <code>{next.row.code}</code> (row {next.n}) from {day(next.row.beginDistribution)} to {day(next.row.endDistribution)}
        </>
      ) : (
        'nothing scheduled: add a row for the next code'
      ),
    ],
    ['assigned', 'Handed out', fmtNumber(pool.counts.assigned)],
    ['rows', 'Rows', fmtNumber(rows.length)],
  ];
  return (
    <dl className="counts static-summary" aria-label="Static code schedule">
      {items.map(([key, label, value]) => (
        <div key={key} data-count={key}>
          <dt>{label}</dt>
          <dd>{saved.isPending ? '…' : value}</dd>
        </div>
      ))}
    </dl>
  );
}

import { useQuery } from '@tanstack/react-query';
import { api, type Assignment, type Pool, type Upload } from '../api.ts';
import { fmtDate, fmtNumber } from '../ui.tsx';

interface Point {
  t: number;
  available: number;
}

const MAX_ASSIGNMENTS = 10_000;

/**
 * Available codes over time, rebuilt from what the API already gives: the pool's uploads (each
 * adds its imported count at its time) and its assignments (each takes one away), anchored on
 * today's `available` count and walked backwards. Codes that expired or entered the cutoff are
 * not events here, so the past line is an approximation; the last point is exact.
 */
export function history(pool: Pool, uploads: Upload[], assignments: Assignment[], now: number): Point[] {
  const events: { t: number; delta: number }[] = [
    ...uploads.filter((u) => u.status === 'imported' && u.imported > 0).map((u) => ({ t: Date.parse(u.createdAt), delta: u.imported })),
    ...assignments.filter((a) => a.source === 'unique').map((a) => ({ t: Date.parse(a.createdAt), delta: -1 })),
  ].sort((a, b) => a.t - b.t);
  const points: Point[] = [{ t: now, available: pool.counts.available }];
  let level = pool.counts.available;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    points.unshift({ t: e.t, available: level });
    level = Math.max(0, level - e.delta);
    points.unshift({ t: e.t, available: level });
  }
  return points;
}

export function DepletionChart({ pool }: { pool: Pool }) {
  const data = useQuery({
    queryKey: ['history', pool.id, pool.updatedAt, pool.counts.available],
    queryFn: async () => ({ uploads: await api.uploads(pool.id), assignments: await api.assignments(pool.id, MAX_ASSIGNMENTS) }),
  });
  if (!data.data) return <div className="chart placeholder" aria-busy="true" />;
  const runsOut = pool.runsOutAt ? Date.parse(pool.runsOutAt) : undefined;
  const now = runsOut !== undefined ? Math.min(Date.now(), runsOut) : Date.now();
  const points = history(pool, data.data.uploads, data.data.assignments, now);
  if (points.length < 2) {
    return <p className="muted chart-empty">No codes have been added yet: the chart starts with the first upload.</p>;
  }
  const W = 640;
  const H = 220;
  const pad = { l: 56, r: 16, t: 12, b: 28 };
  const t0 = points[0]!.t;
  const t1 = Math.max(runsOut ?? now, now, t0 + 60_000);
  const yMax = Math.max(1, ...points.map((p) => p.available), pool.threshold ?? 0) * 1.1;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / yMax) * (H - pad.t - pad.b);
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.available).toFixed(1)}`).join(' ');
  const ticks = [0, yMax / 2, yMax].map((v) => Math.round(v));
  const truncated = data.data.assignments.length >= MAX_ASSIGNMENTS;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Available codes over time: ${fmtNumber(pool.counts.available)} now${runsOut ? `, forecast to run out on ${fmtDate(pool.runsOutAt)}` : ''}`}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} className="grid" />
            <text x={pad.l - 6} y={y(v) + 4} textAnchor="end" className="tick">
              {fmtNumber(v)}
            </text>
          </g>
        ))}
        {pool.threshold !== null ? (
          <g>
            <line x1={pad.l} x2={W - pad.r} y1={y(pool.threshold)} y2={y(pool.threshold)} className="threshold" />
            <text x={W - pad.r} y={y(pool.threshold) - 4} textAnchor="end" className="tick">
              threshold {fmtNumber(pool.threshold)}
            </text>
          </g>
        ) : null}
        <path d={line} className="history" />
        {runsOut !== undefined ? <line x1={x(now)} y1={y(pool.counts.available)} x2={x(runsOut)} y2={y(0)} className="forecast" /> : null}
        <text x={pad.l} y={H - 8} className="tick">
          {fmtDate(new Date(t0).toISOString())}
        </text>
        <text x={W - pad.r} y={H - 8} textAnchor="end" className="tick">
          {fmtDate(new Date(t1).toISOString())}
        </text>
      </svg>
      <figcaption className="muted">
        Solid: available codes, from the uploads and assignments{truncated ? ` (the first ${fmtNumber(MAX_ASSIGNMENTS)} assignments)` : ''}, ending at today’s count.
        {runsOut !== undefined ? ` Dashed: the forecast at the last 7 days’ rate, empty on ${fmtDate(pool.runsOutAt)}.` : ' No forecast: no codes were handed out in the last 7 days.'}
      </figcaption>
    </figure>
  );
}

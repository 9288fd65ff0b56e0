import { useState, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';
import type { Pool } from '../../api.ts';
import { ErrorBanner, fmtNumber } from '../../ui.tsx';
import { dateTicks, dayLabel, isoOfDay, valueTicks } from './axes.ts';
import { usePoolReport } from './report.ts';
import { chartSeries, type ChartDay, type ChartSeries } from './series.ts';

const W = 640;
const PAD = { l: 56, r: 16, t: 14, b: 30 };

/** The x scale shared by both panels: a day's centre, and the day under a pointer position. */
function xScale(s: ChartSeries) {
  const width = W - PAD.l - PAD.r;
  const span = s.to - s.from + 1;
  return {
    x: (day: number) => PAD.l + ((day - s.from + 0.5) / span) * width,
    dayAt: (px: number) => Math.round(s.from - 0.5 + ((px - PAD.l) / width) * span),
    band: width / span,
  };
}

function describe(d: ChartDay, timeZone: string): string {
  const date = `${dayLabel(d.day)}, ${isoOfDay(d.day).slice(0, 4)}`;
  if (d.kind === 'forecast') return `${date} (forecast): ${fmtNumber(d.available)} available`;
  const counts = `${fmtNumber(d.assigned ?? 0)} assigned, ${fmtNumber(d.redeemed ?? 0)} redeemed`;
  return d.kind === 'today'
    ? `${date} (today so far, ${timeZone}): ${fmtNumber(d.available)} available now, ${counts}`
    : `${date}: ${fmtNumber(d.available)} available at day end, ${counts}`;
}

/** Frame of one panel: value grid and labels, date ticks, an axis title, and the hover overlay. */
function Panel(props: {
  s: ChartSeries;
  height: number;
  max: number;
  title: string;
  label: string;
  hover: number | null;
  onHover: (day: number | null) => void;
  children: (y: (v: number) => number) => ReactNode;
}) {
  const { s, height: H } = props;
  const { x, dayAt } = xScale(s);
  const ticks = valueTicks(props.max);
  const top = ticks[ticks.length - 1]!;
  const y = (v: number) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const move = (e: MouseEvent<SVGRectElement>) => {
    const box = e.currentTarget.ownerSVGElement!.getBoundingClientRect();
    const day = dayAt(((e.clientX - box.left) / box.width) * W);
    props.onHover(day >= s.from && day <= s.to ? day : null);
  };
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="grid" />
          <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="tick">
            {fmtNumber(v)}
          </text>
        </g>
      ))}
      <text
        x={12}
        y={(H - PAD.b + PAD.t) / 2}
        className="tick axis-title"
        transform={`rotate(-90 12 ${(H - PAD.b + PAD.t) / 2})`}
        textAnchor="middle"
      >
        {props.title}
      </text>
      {dateTicks(s.from, s.to).map((t) => (
        <g key={t.day} className="x-tick">
          <line x1={x(t.day)} x2={x(t.day)} y1={H - PAD.b} y2={H - PAD.b + 4} className="grid" />
          <text x={x(t.day)} y={H - PAD.b + 16} textAnchor="middle" className="tick">
            {t.label}
          </text>
        </g>
      ))}
      <line x1={x(s.today)} x2={x(s.today)} y1={PAD.t} y2={H - PAD.b} className="today" />
      {props.children(y)}
      {props.hover !== null ? <line x1={x(props.hover)} x2={x(props.hover)} y1={PAD.t} y2={H - PAD.b} className="hover" /> : null}
      <rect
        x={PAD.l}
        y={PAD.t}
        width={W - PAD.l - PAD.r}
        height={H - PAD.t - PAD.b}
        fill="transparent"
        onMouseMove={move}
        onMouseLeave={() => props.onHover(null)}
        data-testid="chart-overlay"
      />
    </svg>
  );
}

/** The pool's depletion chart: recorded available codes with the forecast, and assigned vs redeemed per day. */
export function DepletionChart({ pool }: { pool: Pool }) {
  const report = usePoolReport(pool);
  const [hover, setHover] = useState<number | null>(null);
  if (report.error) return <ErrorBanner error={report.error} />;
  if (!report.data) return <div className="chart placeholder" aria-busy="true" />;
  const r = report.data;
  const s = chartSeries(r);
  const { x, band } = xScale(s);
  const byDay = new Map(s.days.map((d) => [d.day, d]));
  const past = s.days.filter((d) => d.kind !== 'forecast');
  const ahead = s.days.filter((d) => d.kind !== 'recorded');
  const hovered = hover === null ? undefined : byDay.get(hover);
  const path = (days: ChartDay[], y: (v: number) => number) =>
    days.map((d, i) => `${i ? 'L' : 'M'}${x(d.day).toFixed(1)},${y(d.available).toFixed(1)}`).join(' ');
  const keys = (e: KeyboardEvent) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    setHover((h) => Math.min(s.to, Math.max(s.from, (h ?? s.today) + step)));
  };
  const availableMax = Math.max(...s.days.map((d) => d.available), pool.threshold ?? 0);
  const dailyMax = Math.max(0, ...past.map((d) => Math.max(d.assigned ?? 0, d.redeemed ?? 0)));
  const bar = Math.max(1, Math.min(14, band / 2 - 1));
  return (
    <figure className="chart" tabIndex={0} onKeyDown={keys} onBlur={() => setHover(null)} aria-describedby={`chart-tip-${pool.id}`}>
      <Panel
        s={s}
        height={220}
        max={availableMax}
        title="Available codes"
        label={`Available codes over time: ${fmtNumber(r.today.available)} now${r.forecast?.runsOutOn ? `, forecast to run out on ${r.forecast.runsOutOn}` : ''}`}
        hover={hover}
        onHover={setHover}
      >
        {(y) => (
          <>
            {pool.threshold !== null ? (
              <line x1={PAD.l} x2={W - PAD.r} y1={y(pool.threshold)} y2={y(pool.threshold)} className="threshold" />
            ) : null}
            <path d={path(past, y)} className="history" fill="none" />
            {past.map((d) => (
              <circle key={d.day} cx={x(d.day)} cy={y(d.available)} r={past.length > 60 ? 1.5 : 3} className="history-dot" />
            ))}
            {ahead.length > 1 ? <path d={path(ahead, y)} className="forecast" fill="none" /> : null}
          </>
        )}
      </Panel>
      <Panel s={s} height={150} max={dailyMax} title="Per day" label="Codes assigned and redeemed per day" hover={hover} onHover={setHover}>
        {(y) =>
          past.map((d) => (
            <g key={d.day}>
              <rect x={x(d.day) - bar} width={bar} y={y(d.assigned ?? 0)} height={y(0) - y(d.assigned ?? 0)} className="bar-assigned" />
              <rect x={x(d.day)} width={bar} y={y(d.redeemed ?? 0)} height={y(0) - y(d.redeemed ?? 0)} className="bar-redeemed" />
            </g>
          ))
        }
      </Panel>
      <p className="chart-tip" id={`chart-tip-${pool.id}`} role="status">
        {hovered ? describe(hovered, r.timeZone) : 'Point at a day (or focus the chart and use the arrow keys) to read its values.'}
      </p>
      <figcaption className="muted">
        <span className="key key-history" /> Available codes at each day’s end ({r.timeZone}), as recorded
        {r.daily.length ? '' : ' (the first day is recorded once it has ended)'}.{' '}
        {r.forecast && r.forecast.ratePerDay > 0 ? (
          <>
            <span className="key key-forecast" /> Forecast at {fmtNumber(Math.round(r.forecast.ratePerDay * 10) / 10)} codes a day (the last
            7 days), codes leaving as they expire or enter the cutoff
            {r.forecast.runsOutOn ? `: empty on ${r.forecast.runsOutOn}` : ''}
            {s.runsOutBeyond ? ' (beyond this chart)' : ''}.{' '}
          </>
        ) : r.forecast ? (
          <>
            <span className="key key-forecast" /> No codes were handed out in the last 7 days: the forecast shows only codes that expire or
            enter the cutoff.{' '}
          </>
        ) : null}
        <span className="key key-assigned" /> assigned and <span className="key key-redeemed" /> redeemed per day.
      </figcaption>
    </figure>
  );
}

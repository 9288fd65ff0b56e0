import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, type Pool, type RowProblem, type StaticRow, type StaticRowInput } from '../api.ts';
import { dayIn, Empty, ErrorBanner, localDates, useTimeZone, TableHead } from '../ui.tsx';

interface RowDraft {
  code: string;
  mode: 'date' | 'days';
  expiresOn: string;
  days: string;
  begin: string;
  end: string;
}

const blank = (): RowDraft => ({ code: '', mode: 'date', expiresOn: '', days: '', begin: '', end: '' });
// Dates are days in the account's zone: the server reads a plain date back the same way.
const fromRow =
  (zone: string) =>
  (r: StaticRow): RowDraft => ({
    code: r.code,
    mode: r.daysAfterDistribution !== null ? 'days' : 'date',
    expiresOn: dayIn(r.expiresOn, zone),
    days: r.daysAfterDistribution !== null ? String(r.daysAfterDistribution) : '',
    begin: dayIn(r.beginDistribution, zone),
    end: dayIn(r.endDistribution, zone),
  });
const toInput = (r: RowDraft): StaticRowInput => ({
  code: r.code,
  ...(r.mode === 'date' ? (r.expiresOn ? { expiresOn: r.expiresOn } : {}) : r.days ? { daysAfterDistribution: Number(r.days) } : {}),
  beginDistribution: r.begin,
  endDistribution: r.end,
});

/**
 * A static pool's rows: each a code, its expiration (a date, or N days after it is
 * handed out), and its distribution window. Validate shows errors and warnings on their rows.
 */
export function StaticRowsEditor({ pool }: { pool: Pool }) {
  const queryClient = useQueryClient();
  const saved = useQuery({ queryKey: ['static', pool.id], queryFn: () => api.staticRows(pool.id) });
  const [rows, setRows] = useState<RowDraft[] | undefined>();
  const [check, setCheck] = useState<{ errors: RowProblem[]; warnings: RowProblem[]; valid: boolean; saved?: boolean } | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const zone = useTimeZone();
  useEffect(() => {
    if (saved.data && rows === undefined) setRows(saved.data.rows.length ? saved.data.rows.map(fromRow(zone)) : [blank()]);
  }, [saved.data, rows, zone]);
  if (!rows) return <ErrorBanner error={saved.error} />;

  const update = (i: number, patch: Partial<RowDraft>) => {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    setCheck(undefined);
  };
  const problemsOf = (i: number, list: RowProblem[] | undefined) => (list ?? []).filter((p) => p.row === i);
  const cellError = (i: number, field: string) => check?.errors.find((p) => p.row === i && p.field === field);

  async function run(kind: 'validate' | 'save') {
    setBusy(true);
    setError(undefined);
    try {
      const input = rows!.map(toInput);
      if (kind === 'validate') setCheck(await api.validateStaticRows(pool.id, input));
      else {
        const answer = await api.saveStaticRows(pool.id, input);
        setCheck({ valid: true, errors: [], warnings: answer.warnings, saved: true });
        // The counts and the live row change with the rows.
        queryClient.invalidateQueries({ queryKey: ['static', pool.id] });
        queryClient.invalidateQueries({ queryKey: ['pool', pool.id] });
        queryClient.invalidateQueries({ queryKey: ['pools'] });
      }
    } catch (err) {
      if (
        err instanceof ApiError &&
        err.status === 422 &&
        Array.isArray(err.details) &&
        (err.details[0] as RowProblem | undefined)?.row !== undefined
      ) {
        setCheck({ valid: false, errors: err.details as RowProblem[], warnings: (err.body?.warnings as RowProblem[] | undefined) ?? [] });
      } else setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="static-rows">
      {saved.data && saved.data.rows.length === 0 ? (
        <Empty title="No codes scheduled yet">
          Enter the shared code, its expiration and its distribution window, then Validate and Save. Add Rows for future codes.
        </Empty>
      ) : null}
      <table className="table rows" aria-label="Static codes">
        <TableHead
          columns={['#', 'Code', 'Expiration', 'Begin distribution', 'End distribution', { label: 'Row actions', hidden: true }]}
        />
        <tbody>
          {rows
            .map((r, i) => {
              const errs = problemsOf(i, check?.errors);
              const warns = problemsOf(i, check?.warnings);
              const n = i + 1;
              return (
                <tr key={i} className={errs.length ? 'row-error' : warns.length ? 'row-warning' : ''} data-row={n}>
                  <td>{n}</td>
                  <td>
                    <input
                      aria-label={`Row ${n} code`}
                      aria-invalid={Boolean(cellError(i, 'code'))}
                      value={r.code}
                      onChange={(e) => update(i, { code: e.target.value })}
                    />
                  </td>
                  <td>
                    <select
                      aria-label={`Row ${n} expiration kind`}
                      value={r.mode}
                      onChange={(e) => update(i, { mode: e.target.value as RowDraft['mode'] })}
                    >
                      <option value="date">Specify date</option>
                      <option value="days">Days after distribution</option>
                    </select>
                    {r.mode === 'date' ? (
                      <input
                        type="date"
                        aria-label={`Row ${n} expires on`}
                        aria-invalid={Boolean(cellError(i, 'expiresOn'))}
                        value={r.expiresOn}
                        onChange={(e) => update(i, { expiresOn: e.target.value })}
                      />
                    ) : (
                      <input
                        inputMode="numeric"
                        aria-label={`Row ${n} days after distribution`}
                        aria-invalid={Boolean(cellError(i, 'daysAfterDistribution'))}
                        value={r.days}
                        size={5}
                        onChange={(e) => update(i, { days: e.target.value })}
                      />
                    )}
                  </td>
                  <td>
                    <input
                      type="date"
                      aria-label={`Row ${n} begin distribution`}
                      aria-invalid={Boolean(cellError(i, 'beginDistribution'))}
                      value={r.begin}
                      onChange={(e) => update(i, { begin: e.target.value })}
                    />
                  </td>
                  <td>
                    <input
                      type="date"
                      aria-label={`Row ${n} end distribution`}
                      aria-invalid={Boolean(cellError(i, 'endDistribution'))}
                      value={r.end}
                      onChange={(e) => update(i, { end: e.target.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="small ghost"
                      aria-label={`Remove row ${n}`}
                      onClick={() => {
                        setRows(rows.filter((_, j) => j !== i));
                        setCheck(undefined);
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })
            .flatMap((tr, i) => {
              const list = [
                ...problemsOf(i, check?.errors).map((p) => ({ ...p, kind: 'error' })),
                ...problemsOf(i, check?.warnings).map((p) => ({ ...p, kind: 'warning' })),
              ];
              if (!list.length) return [tr];
              return [
                tr,
                <tr key={`p${i}`} className="problems">
                  <td />
                  <td colSpan={5}>
                    <ul aria-label={`Row ${i + 1} problems`}>
                      {list.map((p, k) => (
                        <li key={k} className={p.kind}>
                          <strong>{p.kind === 'error' ? 'Error' : 'Warning'}:</strong> {localDates(p.message)}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>,
              ];
            })}
        </tbody>
      </table>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            setRows([...rows, blank()]);
            setCheck(undefined);
          }}
        >
          Add Rows
        </button>
        <button type="button" onClick={() => void run('validate')} disabled={busy}>
          Validate
        </button>
        <button type="button" className="primary" onClick={() => void run('save')} disabled={busy}>
          Save rows
        </button>
      </div>
      <ErrorBanner error={error} />
      {check ? (
        <p role="status" className={check.valid ? 'ok' : 'bad'}>
          {check.valid
            ? `${check.saved ? 'Saved' : 'Valid'}: ${check.warnings.length ? `${check.warnings.length} warning(s)` : 'no problems'}.`
            : `${check.errors.length} error(s)${check.warnings.length ? ` and ${check.warnings.length} warning(s)` : ''}: fix the rows marked above.`}
        </p>
      ) : null}
    </div>
  );
}

import { useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Dialog, ErrorBanner, Field, fmtNumber } from '../../ui.tsx';
import { importRedemptions, type RedemptionImportReport } from './api.ts';

/** The report of an import: counts, then the first line errors. */
export function ImportReport({ report }: { report: RedemptionImportReport }) {
  const rejected = report.status === 'rejected';
  return (
    <div className={`report ${rejected ? 'rejected' : 'imported'}`} role="status" aria-label="Import report">
      <p>
        <strong>{rejected ? 'Rejected: nothing was recorded.' : 'Imported.'}</strong> {fmtNumber(report.lines)} lines read,{' '}
        {fmtNumber(report.recorded)} redemptions recorded, {fmtNumber(report.duplicates)} already recorded, {fmtNumber(report.rejected)} not
        recorded.
      </p>
      {report.errors.length ? (
        <table className="table compact" aria-label="Line errors">
          <thead>
            <tr>
              <th scope="col" className="num">
                Line
              </th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e) => (
              <tr key={e.line}>
                <td className="num">{e.line}</td>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {report.errorCount > report.errors.length ? (
        <p className="muted">
          Showing the first {report.errors.length} of {fmtNumber(report.errorCount)} errors.
        </p>
      ) : null}
    </div>
  );
}

/** Import a CSV of orders that used codes (code,orderId[,redeemedAt,amount,currency,email]), with progress. */
export function ImportDialog({ merchantId, onClose }: { merchantId: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | undefined>();
  const [onInvalid, setOnInvalid] = useState<'reject' | 'skip'>('reject');
  const [progress, setProgress] = useState<number | undefined>();
  const [report, setReport] = useState<RedemptionImportReport | undefined>();
  const [error, setError] = useState<unknown>();
  const abort = useRef<AbortController | undefined>(undefined);
  const busy = progress !== undefined && !report && !error;

  async function submit() {
    if (!file) return;
    setError(undefined);
    setReport(undefined);
    setProgress(0);
    abort.current = new AbortController();
    try {
      setReport(await importRedemptions(merchantId, file, onInvalid, setProgress, abort.current.signal));
    } catch (err) {
      setError(err);
      setProgress(undefined);
    } finally {
      abort.current = undefined;
      queryClient.invalidateQueries({ queryKey: ['redemptions', merchantId] });
    }
  }

  return (
    <Dialog title="Import redemptions" onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="CSV file" hint="Header: code,orderId and optionally redeemedAt, amount, currency, email.">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={(e) => setFile(e.target.files?.[0])}
            />
          )}
        </Field>
        <fieldset>
          <legend>Lines that cannot be recorded</legend>
          <label className="radio">
            <input type="radio" name="onInvalid" checked={onInvalid === 'reject'} onChange={() => setOnInvalid('reject')} /> Reject the
            whole file
          </label>
          <label className="radio">
            <input type="radio" name="onInvalid" checked={onInvalid === 'skip'} onChange={() => setOnInvalid('skip')} /> Skip them, record
            the rest
          </label>
        </fieldset>
        {busy ? <progress aria-label="Import progress" max={1} value={progress} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={!file || busy}>
            {busy ? (progress! < 1 ? `Sending… ${Math.round(progress! * 100)}%` : 'Recording…') : 'Import'}
          </button>
          {busy ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Cancel
            </button>
          ) : null}
        </div>
      </form>
      <ErrorBanner error={error} />
      {report ? <ImportReport report={report} /> : null}
    </Dialog>
  );
}

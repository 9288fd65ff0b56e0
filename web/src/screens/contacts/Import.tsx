import { useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { href } from '../../router.ts';
import { ErrorBanner, Field, fmtNumber } from '../../ui.tsx';
import { importContacts, type ContactImportReport } from './contactApi.ts';

/** Contacts from a CSV (POST /v1/contacts/import): header `email,<group>.<field>,…`; progress, then the report. */
export function ContactImportScreen() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [onInvalid, setOnInvalid] = useState<'reject' | 'skip'>('reject');
  const [progress, setProgress] = useState<number | null>(null);
  const [report, setReport] = useState<ContactImportReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);

  const start = async () => {
    if (!file) return;
    setReport(null);
    setError(null);
    setProgress(0);
    abort.current = new AbortController();
    try {
      setReport(await importContacts(file, onInvalid, setProgress, abort.current.signal));
      await queryClient.invalidateQueries({ queryKey: ['contacts'] });
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
      abort.current = null;
    }
  };

  return (
    <section>
      <p className="crumbs">
        <a href={href('contacts')}>Contacts</a>
      </p>
      <div className="page-head">
        <h1>Import contacts</h1>
      </div>
      <p className="muted">
        A CSV file whose first line names the columns: <code>email</code>, then <code>Group.Field</code> for each field (and optionally{' '}
        <code>status</code>). An empty cell leaves a value as it is. Existing contacts (same email, any case) are updated.
      </p>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <Field label="CSV file">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          )}
        </Field>
        <Field label="Invalid lines">
          {(id, d) => (
            <select id={id} aria-describedby={d} value={onInvalid} onChange={(e) => setOnInvalid(e.target.value as 'reject' | 'skip')}>
              <option value="reject">reject the whole file</option>
              <option value="skip">skip them, import the rest</option>
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" disabled={!file || progress !== null}>
            Import
          </button>
          {progress !== null ? (
            <button type="button" className="ghost" onClick={() => abort.current?.abort()}>
              Cancel
            </button>
          ) : null}
        </div>
      </form>
      {progress !== null ? (
        <div aria-label="Import progress">
          <progress max={1} value={progress} /> {progress < 1 ? `${Math.round(progress * 100)}% sent` : 'Importing…'}
        </div>
      ) : null}
      <ErrorBanner error={error} />
      {report ? <ImportReport report={report} /> : null}
    </section>
  );
}

function ImportReport({ report }: { report: ContactImportReport }) {
  return (
    <div className="panel" aria-label="Import report" role="status">
      <h2>{report.status === 'imported' ? 'Imported' : 'Nothing imported: the file has invalid lines'}</h2>
      <dl className="kv">
        <div>
          <dt>Lines read</dt>
          <dd>{fmtNumber(report.lines)}</dd>
        </div>
        <div>
          <dt>Imported</dt>
          <dd>{fmtNumber(report.imported)}</dd>
        </div>
        <div>
          <dt>New contacts</dt>
          <dd>{fmtNumber(report.created)}</dd>
        </div>
        <div>
          <dt>Updated contacts</dt>
          <dd>{fmtNumber(report.updated)}</dd>
        </div>
        <div>
          <dt>Invalid</dt>
          <dd>{fmtNumber(report.rejected)}</dd>
        </div>
      </dl>
      {report.errors.length ? (
        <table className="table compact" aria-label="Invalid lines">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e) => (
              <tr key={e.line}>
                <td>{e.line}</td>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {report.errorCount > report.errors.length ? (
        <p className="muted">…and {fmtNumber(report.errorCount - report.errors.length)} more.</p>
      ) : null}
    </div>
  );
}

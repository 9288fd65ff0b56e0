import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { href } from '../../router.ts';
import { CSV_IMPORT, ImportForm, LineErrors, type ImportTexts } from '../../importing.tsx';
import { Field, fmtNumber } from '../../ui.tsx';
import { importContacts, type ContactImportReport } from './contactApi.ts';

const TEXTS: ImportTexts = {
  ...CSV_IMPORT,
  processing: 'Importing…',
  cancelled: (
    <>
      <strong>Cancelled.</strong> The import was stopped; nothing was imported.
    </>
  ),
};

/** Contacts from a CSV (POST /v1/contacts/import): header `email,<group>.<field>,…`; progress, then the report. */
export function ContactImportScreen() {
  const queryClient = useQueryClient();
  const [onInvalid, setOnInvalid] = useState<'reject' | 'skip'>('reject');

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
      <ImportForm
        texts={TEXTS}
        send={(file, onProgress, signal) => importContacts(file, onInvalid, onProgress, signal)}
        report={(report) => <ImportReport report={report} />}
        onSettled={() => void queryClient.invalidateQueries({ queryKey: ['contacts'] })}
        options={() => (
          <Field label="Invalid lines">
            {(id, d) => (
              <select id={id} aria-describedby={d} value={onInvalid} onChange={(e) => setOnInvalid(e.target.value as 'reject' | 'skip')}>
                <option value="reject">reject the whole file</option>
                <option value="skip">skip them, import the rest</option>
              </select>
            )}
          </Field>
        )}
      />
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
      <LineErrors errors={report.errors} errorCount={report.errorCount} label="Invalid lines" />
    </div>
  );
}

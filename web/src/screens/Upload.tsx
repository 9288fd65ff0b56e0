import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, uploadCodes, type Pool, type Upload, type UploadOptions } from '../api.ts';
import { ImportDialog, LineErrors, OnInvalidChoice, type ImportTexts } from '../importing.tsx';
import { Field, fmtNumber } from '../ui.tsx';

/** The report of an upload (imported or rejected): counts, then the first line errors. */
export function UploadReport({ upload }: { upload: Upload }) {
  const rejected = upload.status === 'rejected';
  return (
    <div className={`report ${rejected ? 'rejected' : 'imported'}`} role="status" aria-label="Upload report">
      <p>
        <strong>{rejected ? 'Rejected: nothing was imported.' : 'Imported.'}</strong> {fmtNumber(upload.lines)} lines read,{' '}
        {fmtNumber(upload.imported)} imported, {fmtNumber(upload.duplicates)} duplicates skipped, {fmtNumber(upload.rejected)} invalid
        {upload.blank ? `, ${fmtNumber(upload.blank)} blank` : ''}.
      </p>
      {upload.alreadyExpired ? (
        <p className="warn-text">Imported, but already expired: {fmtNumber(upload.alreadyExpired)} (they will never be assigned).</p>
      ) : null}
      <LineErrors errors={upload.errors} errorCount={upload.errorCount} />
    </div>
  );
}

const TEXTS: ImportTexts = {
  file: 'File',
  noFile: 'Choose a .txt file first.',
  accept: '.txt,text/plain',
  submit: 'Upload File',
  sending: 'Uploading…',
  cancel: 'Cancel upload',
  progress: 'Upload progress',
  processing: 'Importing…',
  report: 'Upload report',
  cancelled: (
    <>
      <strong>Cancelled.</strong> The upload was stopped; nothing was imported. It shows as “cancelled” in the uploads list.
    </>
  ),
};

/** Upload a plain-text file of codes: expiration option, delimiter, reject/skip, with progress. */
export function UploadDialog({ pool, onClose }: { pool: Pool; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [options, setOptions] = useState<UploadOptions>({ expiration: 'none', delimiter: ',', onInvalid: 'reject' });
  const set = (patch: Partial<UploadOptions>) => setOptions((o) => ({ ...o, ...patch }));

  return (
    <ImportDialog
      title={`Upload codes to ${pool.name}`}
      onClose={onClose}
      texts={TEXTS}
      fileHint={fileHint(options)}
      send={(file, onProgress, signal) => uploadCodes(pool.id, file, options, onProgress, signal)}
      // Cancel came too late if the server had the whole file and committed it: say what happened.
      recorded={async (file, startedAt) => {
        const outcome = await recordedOutcome(pool.id, file.name, startedAt);
        return outcome?.status === 'imported' ? outcome : undefined;
      }}
      report={(upload) => <UploadReport upload={upload} />}
      onSettled={() => {
        for (const key of [['pools'], ['pool', pool.id], ['uploads', pool.id], ['history', pool.id]])
          void queryClient.invalidateQueries({ queryKey: key });
      }}
      options={(errors) => (
        <>
          <fieldset>
            <legend>Expiration date</legend>
            {(
              [
                ['none', 'No expiration date'],
                ['file', 'Use date in file'],
                ['fixed', 'Expire on'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="radio">
                <input
                  type="radio"
                  name="expiration"
                  value={value}
                  checked={options.expiration === value}
                  onChange={() => set({ expiration: value })}
                />{' '}
                {label}
              </label>
            ))}
          </fieldset>
          {options.expiration === 'file' ? (
            <Field
              label="Delimiter"
              error={errors.delimiter}
              hint="Lines are: code, then the delimiter, then the date (YYYY-MM-DD, MM/DD/YYYY or ISO-8601)."
            >
              {(id, d) => (
                <select
                  id={id}
                  aria-describedby={d}
                  value={options.delimiter}
                  onChange={(e) => set({ delimiter: e.target.value as UploadOptions['delimiter'] })}
                >
                  <option value=",">Comma ( , )</option>
                  <option value=";">Semicolon ( ; )</option>
                  <option value="tab">Tab</option>
                  <option value="|">Pipe ( | )</option>
                </select>
              )}
            </Field>
          ) : null}
          {options.expiration === 'fixed' ? (
            <Field label="Expires on" error={errors.expiresOn}>
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  type="date"
                  required
                  value={options.expiresOn ?? ''}
                  onChange={(e) => set({ expiresOn: e.target.value })}
                />
              )}
            </Field>
          ) : null}
          <OnInvalidChoice
            legend="Invalid lines"
            value={options.onInvalid}
            onChange={(onInvalid) => set({ onInvalid })}
            reject="Reject the whole file (nothing is imported)"
            skip="Skip invalid lines, import the rest"
          />
        </>
      )}
    />
  );
}

/** How the server recorded the upload of `fileName` started at `since` (it rolls back, then records), if it did within a few seconds. */
async function recordedOutcome(poolId: string, fileName: string, since: number): Promise<Upload | undefined> {
  for (let i = 0; i < 20; i++) {
    const found = (await api.uploads(poolId).catch(() => [] as Upload[])).find(
      (u) => u.fileName === fileName && Date.parse(u.createdAt) >= since - 5_000,
    );
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/** What a line of the file looks like with the chosen expiration option. */
function fileHint(options: UploadOptions): string {
  const base = 'Plain text (.txt), one code per line, at most 50 characters each, no header row';
  if (options.expiration === 'file') {
    const d = options.delimiter === 'tab' ? 'a tab' : `"${options.delimiter}"`;
    return `${base}; each line: the code, ${d}, then its expiration date (e.g. SUMMER-0001${options.delimiter === 'tab' ? '→' : options.delimiter}2026-12-31).`;
  }
  if (options.expiration === 'fixed') return `${base}; every code expires on the date above.`;
  return `${base}; the codes never expire.`;
}

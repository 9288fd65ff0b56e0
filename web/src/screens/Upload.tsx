import { useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, uploadCodes, type Pool, type Upload, type UploadOptions } from '../api.ts';
import { Dialog, ErrorBanner, Field, fmtNumber } from '../ui.tsx';

/** The report of an upload (imported or rejected): counts, then the first line errors. */
export function UploadReport({ upload, rejected }: { upload: Upload; rejected?: boolean }) {
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
      {upload.errors.length ? (
        <>
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
              {upload.errors.map((e) => (
                <tr key={e.line}>
                  <td className="num">{e.line}</td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {upload.errorCount > upload.errors.length ? (
            <p className="muted">
              Showing the first {upload.errors.length} of {fmtNumber(upload.errorCount)} errors.
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

/** Upload a plain-text file of codes: expiration option, delimiter, reject/skip, with progress. */
export function UploadDialog({ pool, onClose }: { pool: Pool; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [options, setOptions] = useState<UploadOptions>({ expiration: 'none', delimiter: ',', onInvalid: 'reject' });
  const [file, setFile] = useState<File | undefined>();
  const [progress, setProgress] = useState<number | undefined>();
  const [result, setResult] = useState<{ upload: Upload; rejected: boolean } | undefined>();
  const [error, setError] = useState<unknown>();
  // After Cancel: 'pending' until the server has recorded how the upload ended.
  const [cancelled, setCancelled] = useState<'pending' | 'cancelled' | false>(false);
  const abort = useRef<AbortController | undefined>(undefined);
  const busy = progress !== undefined && !result && !error;
  const errors = fieldErrors(error);
  const set = (patch: Partial<UploadOptions>) => setOptions((o) => ({ ...o, ...patch }));

  async function submit() {
    if (!file)
      return setError(
        new ApiError(0, 'no_file', 'Choose a .txt file first.', [{ field: 'file', message: 'Choose a .txt file first.' }], undefined),
      );
    setError(undefined);
    setResult(undefined);
    setCancelled(false);
    setProgress(0);
    abort.current = new AbortController();
    const startedAt = Date.now();
    try {
      const upload = await uploadCodes(pool.id, file, options, setProgress, abort.current.signal);
      setResult({ upload, rejected: false });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'cancelled') {
        setCancelled('pending');
        setProgress(undefined);
        // Cancel came too late if the server had the whole file and committed it: say what happened.
        const outcome = await recordedOutcome(pool.id, file.name, startedAt);
        if (outcome?.status === 'imported') {
          setCancelled(false);
          setResult({ upload: outcome, rejected: false });
        } else setCancelled('cancelled');
        return;
      }
      const rejectedUpload =
        err instanceof ApiError && err.code === 'upload_rejected' ? (err.body?.upload as Upload | undefined) : undefined;
      if (rejectedUpload) setResult({ upload: rejectedUpload, rejected: true });
      else setError(err);
    } finally {
      abort.current = undefined;
      queryClient.invalidateQueries({ queryKey: ['pools'] });
      queryClient.invalidateQueries({ queryKey: ['pool', pool.id] });
      queryClient.invalidateQueries({ queryKey: ['uploads', pool.id] });
      queryClient.invalidateQueries({ queryKey: ['history', pool.id] });
    }
  }

  return (
    <Dialog title={`Upload codes to ${pool.name}`} onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
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
        <fieldset>
          <legend>Invalid lines</legend>
          <label className="radio">
            <input
              type="radio"
              name="onInvalid"
              value="reject"
              checked={options.onInvalid === 'reject'}
              onChange={() => set({ onInvalid: 'reject' })}
            />{' '}
            Reject the whole file (nothing is imported)
          </label>
          <label className="radio">
            <input
              type="radio"
              name="onInvalid"
              value="skip"
              checked={options.onInvalid === 'skip'}
              onChange={() => set({ onInvalid: 'skip' })}
            />{' '}
            Skip invalid lines, import the rest
          </label>
        </fieldset>
        <Field label="File" error={errors.file} hint={fileHint(options)}>
          {(id, d) => (
            <input id={id} aria-describedby={d} type="file" accept=".txt,text/plain" onChange={(e) => setFile(e.target.files?.[0])} />
          )}
        </Field>
        {progress !== undefined ? (
          <div className="progress">
            <progress aria-label="Upload progress" max={1} value={progress} />
            <span>{busy && progress >= 1 ? 'Importing…' : `${Math.round(progress * 100)} %`}</span>
          </div>
        ) : null}
        <ErrorBanner error={error && !errors.file ? error : undefined} />
        {cancelled ? (
          <div className="report rejected" role="status" aria-label="Upload report">
            <p>
              {cancelled === 'pending' ? (
                'Cancelling…'
              ) : (
                <>
                  <strong>Cancelled.</strong> The upload was stopped; nothing was imported. It shows as “cancelled” in the uploads list.
                </>
              )}
            </p>
          </div>
        ) : null}
        {result ? <UploadReport upload={result.upload} rejected={result.rejected} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Uploading…' : 'Upload File'}
          </button>
          {busy ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Cancel upload
            </button>
          ) : (
            <button type="button" onClick={onClose}>
              {result ? 'Done' : 'Close'}
            </button>
          )}
        </div>
      </form>
    </Dialog>
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

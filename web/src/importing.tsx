import { useRef, useState, type ReactNode } from 'react';
import { ApiError, fieldErrors } from './api.ts';
import { Dialog, ErrorBanner, Field, fmtNumber, TableHead } from './ui.tsx';

/** What one import (codes, redemptions, contacts) says at each step of the shared flow. */
export interface ImportTexts {
  /** The file input's label, and the error when Submit is pressed without a file. */
  file: string;
  noFile: string;
  accept: string;
  submit: string;
  /** The submit button's text while the file is under way. */
  sending: string;
  cancel: string;
  /** The progress bar's label, and what it says once the whole file is sent. */
  progress: string;
  processing: string;
  /** The report's label (the cancelled note carries it too) and the note itself. */
  report: string;
  cancelled: ReactNode;
}

/** The words a CSV import (contacts, redemptions) shares; each adds what it does with the lines. */
export const CSV_IMPORT = {
  file: 'CSV file',
  noFile: 'Choose a CSV file first.',
  accept: '.csv,text/csv,text/plain',
  submit: 'Import',
  sending: 'Sending…',
  cancel: 'Cancel',
  progress: 'Import progress',
  report: 'Import report',
} satisfies Partial<ImportTexts>;

/**
 * The flow of a file sent to an import endpoint: the page's options, the file, Submit (with
 * progress), Cancel (the request is cut: the server rolls back), then the page's report; a 422's
 * field errors go beside their inputs, any other failure in a banner. `send` is the page's call.
 */
export function ImportForm<R>(props: {
  texts: ImportTexts;
  fileHint?: ReactNode;
  /** The page's own option fields, above the file, with the errors the server gave for them. */
  options?: (errors: Record<string, string>) => ReactNode;
  send: (file: File, onProgress: (fraction: number) => void, signal: AbortSignal) => Promise<R>;
  /** After a Cancel: what the server recorded anyway (Cancel came after the commit), if it did. */
  recorded?: (file: File, startedAt: number) => Promise<R | undefined>;
  report: (result: R) => ReactNode;
  /** After every attempt: what the page refreshes. */
  onSettled?: () => void;
  /** In a dialog: the Close (Done, once there is a result) button. */
  onClose?: () => void;
}) {
  const { texts } = props;
  const [file, setFile] = useState<File | undefined>();
  const [progress, setProgress] = useState<number | undefined>();
  const [result, setResult] = useState<{ value: R } | undefined>();
  const [error, setError] = useState<unknown>();
  // After Cancel: 'pending' until the page has found how the server recorded it.
  const [cancelled, setCancelled] = useState<'pending' | 'cancelled' | false>(false);
  const abort = useRef<AbortController | undefined>(undefined);
  const busy = progress !== undefined && !result && !error;
  const errors = fieldErrors(error);

  async function submit() {
    if (!file) return setError(new ApiError(0, 'no_file', texts.noFile, [{ field: 'file', message: texts.noFile }], undefined));
    setError(undefined);
    setResult(undefined);
    setCancelled(false);
    setProgress(0);
    abort.current = new AbortController();
    const startedAt = Date.now();
    try {
      setResult({ value: await props.send(file, setProgress, abort.current.signal) });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'cancelled')) return setError(err);
      setCancelled('pending');
      setProgress(undefined);
      const recorded = await props.recorded?.(file, startedAt);
      if (recorded === undefined) return setCancelled('cancelled');
      setCancelled(false);
      setResult({ value: recorded });
    } finally {
      abort.current = undefined;
      props.onSettled?.();
    }
  }

  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {props.options?.(errors)}
      <Field label={texts.file} error={errors.file} hint={props.fileHint}>
        {(id, d) => <input id={id} aria-describedby={d} type="file" accept={texts.accept} onChange={(e) => setFile(e.target.files?.[0])} />}
      </Field>
      {progress !== undefined ? (
        <div className="progress">
          <progress aria-label={texts.progress} max={1} value={progress} />
          <span>{busy && progress >= 1 ? texts.processing : `${Math.round(progress * 100)} %`}</span>
        </div>
      ) : null}
      <ErrorBanner error={error && !errors.file ? error : undefined} />
      {cancelled ? (
        <div className="report rejected" role="status" aria-label={texts.report}>
          <p>{cancelled === 'pending' ? 'Cancelling…' : texts.cancelled}</p>
        </div>
      ) : null}
      {result ? props.report(result.value) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? texts.sending : texts.submit}
        </button>
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            {texts.cancel}
          </button>
        ) : props.onClose ? (
          <button type="button" onClick={props.onClose}>
            {result ? 'Done' : 'Close'}
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** The import flow in a modal dialog (the pool's Upload codes, the redemptions' Import). */
export function ImportDialog<R>(props: Parameters<typeof ImportForm<R>>[0] & { title: string; onClose: () => void }) {
  const { title, ...form } = props;
  return (
    <Dialog title={title} onClose={props.onClose}>
      <ImportForm {...form} />
    </Dialog>
  );
}

/** A report's line errors (the first ones the server kept), and how many there were in all. */
export function LineErrors(props: { errors: { line: number; reason: string }[]; errorCount: number; label?: string }) {
  const { errors, errorCount } = props;
  if (!errors.length) return null;
  return (
    <>
      <table className="table compact" aria-label={props.label ?? 'Line errors'}>
        <TableHead columns={[{ label: 'Line', num: true }, 'Problem']} />
        <tbody>
          {errors.map((e) => (
            <tr key={e.line}>
              <td className="num">{e.line}</td>
              <td>{e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {errorCount > errors.length ? (
        <p className="muted">
          Showing the first {errors.length} of {fmtNumber(errorCount)} errors.
        </p>
      ) : null}
    </>
  );
}

/** The "Reject the whole file / Skip …" choice every import offers, in the page's words. */
export function OnInvalidChoice(props: {
  legend: string;
  value: 'reject' | 'skip';
  onChange: (value: 'reject' | 'skip') => void;
  reject: string;
  skip: string;
}) {
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      {(['reject', 'skip'] as const).map((value) => (
        <label key={value} className="radio">
          <input type="radio" name="onInvalid" value={value} checked={props.value === value} onChange={() => props.onChange(value)} />{' '}
          {props[value]}
        </label>
      ))}
    </fieldset>
  );
}

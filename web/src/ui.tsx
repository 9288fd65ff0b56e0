import { useEffect, useId, useRef, useState, type ReactNode, type SyntheticEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, type Session } from './api.ts';

/** A labelled input row; its error is shown right beside it and announced to screen readers. */
export function Field(props: {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [props.error ? errorId : '', props.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${props.error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.hint ? (
        <div className="hint" id={hintId}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <div className="field-error" id={errorId} role="alert">
          {props.error}
        </div>
      ) : null}
    </div>
  );
}

/**
 * An inline form of one input and its button: a search, a filter, an address or a name to add.
 * `required`: the button waits for a value (spaces are none), and the form sends nothing without one.
 */
export function OneFieldForm(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  button: string;
  type?: 'search' | 'email';
  placeholder?: string;
  hint?: ReactNode;
  error?: string | undefined;
  role?: 'search';
  required?: boolean;
  busy?: boolean;
}) {
  const empty = props.required && !props.value.trim();
  return (
    <form
      className="form inline"
      role={props.role}
      onSubmit={(e) => {
        e.preventDefault();
        if (!empty) props.onSubmit();
      }}
    >
      <Field label={props.label} error={props.error} hint={props.hint}>
        {(id, d) => (
          <input
            id={id}
            aria-describedby={d}
            type={props.type}
            value={props.value}
            onChange={(e) => props.onChange(e.target.value)}
            placeholder={props.placeholder}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" disabled={empty || props.busy}>
          {props.button}
        </button>
      </div>
    </form>
  );
}

/** A filter's select: "Any" (no value, `undefined`), then each of `values`, shown by its name in `names` or as itself. */
export function FilterSelect<T extends string>(props: {
  label: string;
  values: readonly T[];
  value: T | undefined;
  onChange: (value: T | undefined) => void;
  names?: Record<T, string>;
}) {
  return (
    <Field label={props.label}>
      {(id) => (
        <select id={id} value={props.value ?? ''} onChange={(e) => props.onChange((e.target.value || undefined) as T | undefined)}>
          <option value="">Any</option>
          {props.values.map((v) => (
            <option key={v} value={v}>
              {props.names?.[v] ?? v}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A password row (sign-in, setting a password): required, with the browser's autocomplete hint. */
export function PasswordField(props: {
  label: string;
  error?: string | undefined;
  value: string;
  onChange: (value: string) => void;
  autoComplete: 'current-password' | 'new-password';
  autoFocus?: boolean;
}) {
  return (
    <Field label={props.label} error={props.error}>
      {(id, d) => (
        <input
          id={id}
          aria-describedby={d}
          type="password"
          autoComplete={props.autoComplete}
          required
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          autoFocus={props.autoFocus}
        />
      )}
    </Field>
  );
}

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div className="banner error" role="alert">
      {message}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function Loading() {
  return (
    <p className="muted" aria-live="polite">
      Loading…
    </p>
  );
}

/** A modal dialog (the native <dialog>: focus is trapped, Escape closes it). */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  // A file input fires a bubbling `cancel` when its picker is dismissed (or the same file is
  // chosen again): only Escape on the dialog itself closes it.
  const closedHere = (e: SyntheticEvent<HTMLDialogElement>) => {
    if (e.target === e.currentTarget) props.onClose();
  };
  return (
    <dialog ref={ref} className={props.wide ? 'wide' : ''} aria-labelledby={titleId} onClose={closedHere} onCancel={closedHere}>
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="ghost" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'muted' | 'info'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** Copies text to the clipboard, saying so. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // Clipboard refused (insecure context): select-and-copy by hand remains.
        }
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

export const fmtNumber = (n: number) => n.toLocaleString('en-US');
export const fmtDate = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().slice(0, 10) : '—');
export const fmtDateTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—';

/** The signed-in account's time zone (plain dates the marketer types mean days there). */
export function useTimeZone(): string {
  return useQueryClient().getQueryData<Session>(['session'])?.timeZone ?? 'UTC';
}

/** The day (YYYY-MM-DD) an instant falls on in `timeZone`: what a date field shows and sends back. */
export function dayIn(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '';
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(iso),
  );
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/**
 * A name short enough for a narrow select, cut at a word boundary with an ellipsis (a select
 * clips its text wherever the box ends, mid-word): the full name goes in the option's title.
 */
export function shortLabel(text: string, max = 30): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:–-]+$/, '')}…`;
}

// A date input shows its day in the browser's format (MM/DD/YYYY in the US): so do the texts beside it.
const dayFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' });
/** A YYYY-MM-DD day as a date input shows it. */
export function localDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return y && m && d ? dayFormat.format(Date.UTC(y, m - 1, d)) : day;
}
/** The YYYY-MM-DD days in a server's message, as the date inputs show them. */
export const localDates = (text: string) => text.replace(/\b\d{4}-\d{2}-\d{2}\b/g, localDay);

/** A table's column: its header text; `num` right-aligns a figure; `hidden` names it for screen readers only. */
export type Column = string | { label: string; num?: boolean; hidden?: boolean };

/** The header row of a console table (`scope="col"` on each cell, figures right-aligned). */
export function TableHead({ columns }: { columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => {
          const { label, num, hidden } = typeof c === 'string' ? { label: c } : c;
          return (
            <th key={label} scope="col" className={num ? 'num' : undefined}>
              {hidden ? <span className="sr-only">{label}</span> : label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

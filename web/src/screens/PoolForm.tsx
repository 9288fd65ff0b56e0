import { useState, type InputHTMLAttributes } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, type Pool, type PoolSettings, type PoolType } from '../api.ts';
import { expiryReminderDaysProblem } from '../../../src/modules/pools/model.ts';
import { ErrorBanner, Field } from '../ui.tsx';

interface Draft {
  name: string;
  type: PoolType;
  expirationCutoffDays: string;
  active: boolean;
  defaultCode: string;
  defaultCodeExpiresAt: string;
  threshold: string;
  notificationEmails: string;
  expiryReminderDays: string;
}

/** The settings typed as text (every one but the type and the active switch). */
type TextSetting = Exclude<keyof Draft, 'type' | 'active'>;

const fromPool = (p?: Pool): Draft => ({
  name: p?.name ?? '',
  type: p?.type ?? 'unique',
  expirationCutoffDays: String(p?.expirationCutoffDays ?? 0),
  active: p?.active ?? true,
  defaultCode: p?.defaultCode ?? '',
  defaultCodeExpiresAt: p?.defaultCodeExpiresAt ? p.defaultCodeExpiresAt.slice(0, 10) : '',
  threshold: p?.threshold === null || p?.threshold === undefined ? '' : String(p.threshold),
  notificationEmails: p?.notificationEmails.join(', ') ?? '',
  expiryReminderDays: p?.expiryReminderDays == null ? '' : String(p.expiryReminderDays),
});

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;
const isWholeNumber = (s: string) => /^\d+$/.test(s.trim());

/** The pool rules, checked as the user types; the server checks them again. */
export function validatePool(d: Draft): Record<string, string> {
  const e: Record<string, string> = {};
  const name = d.name.trim();
  if (!name) e.name = 'Give the pool a name, e.g. SCA10Off.';
  else if (name.length > 100) e.name = 'At most 100 characters.';
  if (d.type === 'unique' && !isWholeNumber(d.expirationCutoffDays)) e.expirationCutoffDays = 'A whole number of days, 0 or more.';
  if (d.defaultCode.trim().length > 50) e.defaultCode = 'At most 50 characters.';
  if (d.threshold.trim() && !isWholeNumber(d.threshold)) e.threshold = 'A whole number, 0 or more (or leave empty).';
  const bad = d.notificationEmails
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s && !EMAIL.test(s));
  if (bad.length) e.notificationEmails = `Not an email address: ${bad.join(', ')}`;
  if (d.defaultCodeExpiresAt && !d.defaultCode.trim()) e.defaultCodeExpiresAt = 'Only with a default code.';
  const reminder = d.type === 'unique' ? expiryReminderDaysProblem(d.expiryReminderDays) : null;
  if (reminder) e.expiryReminderDays = reminder;
  return e;
}

const toSettings = (d: Draft): PoolSettings => ({
  name: d.name.trim(),
  type: d.type,
  ...(d.type === 'unique' ? { expirationCutoffDays: Number(d.expirationCutoffDays) } : {}),
  active: d.active,
  defaultCode: d.defaultCode.trim() || null,
  defaultCodeExpiresAt: d.defaultCode.trim() && d.defaultCodeExpiresAt ? d.defaultCodeExpiresAt : null,
  threshold: d.threshold.trim() ? Number(d.threshold) : null,
  notificationEmails: d.notificationEmails,
  expiryReminderDays: d.type === 'unique' && d.expiryReminderDays.trim() ? Number(d.expiryReminderDays) : null,
});

/** Add or edit a pool: every pool setting, each with its message beside it. */
export function PoolForm(props: { merchantId: string; pool?: Pool; onSaved: (pool: Pool) => void; onCancel?: () => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => fromPool(props.pool));
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const save = useMutation({
    mutationFn: (settings: PoolSettings) =>
      props.pool ? api.updatePool(props.pool.id, settings) : api.createPool(props.merchantId, settings),
    onSuccess: (pool) => {
      queryClient.invalidateQueries({ queryKey: ['pools'] });
      queryClient.setQueryData(['pool', pool.id], pool);
      props.onSaved(pool);
    },
  });
  const local = validatePool(draft);
  const server = fieldErrors(save.error);
  if (save.error instanceof ApiError && save.error.code === 'name_taken') server.name = save.error.message;
  // The server's reason in full (the pool holds codes), beside the field it concerns.
  if (save.error instanceof ApiError && save.error.code === 'pool_not_empty') server.type = save.error.message;
  const errorOf = (field: keyof Draft) => ((touched[field] || submitted) && local[field]) || server[field];
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    setTouched((t) => ({ ...t, [field]: true }));
  };
  const generalError = save.error && !Object.keys(server).length ? save.error : undefined;
  // A text setting's row: its input, its hint, its message (the client's rule as typed, else the server's).
  const text = (field: TextSetting, label: string, hint?: string, input?: InputHTMLAttributes<HTMLInputElement>) => (
    <Field label={label} error={errorOf(field)} hint={hint}>
      {(id, d) => (
        <input
          id={id}
          aria-describedby={d}
          aria-invalid={Boolean(errorOf(field))}
          value={draft[field]}
          onChange={(e) => set(field, e.target.value)}
          {...input}
        />
      )}
    </Field>
  );
  // The settings of unique pools only: disabled, and saying so, on a static pool.
  const unique = draft.type === 'unique';
  const uniqueOnly = (hint: string) => (unique ? hint : 'Applies to unique pools only.');
  const number = { inputMode: 'numeric', disabled: !unique } as const;

  return (
    <form
      className="form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setSubmitted(true);
        if (Object.keys(local).length) return;
        save.mutate(toSettings(draft));
      }}
    >
      <ErrorBanner error={generalError} />
      {text('name', 'Name', 'Name it for the campaign and the discount, e.g. SCA10Off.', { maxLength: 120 })}
      <Field
        label="Type"
        error={errorOf('type')}
        hint={
          draft.type === 'unique'
            ? 'One code per contact, from uploaded or generated codes.'
            : 'One shared code for everyone, scheduled in rows.'
        }
      >
        {(id, d) => (
          <select id={id} aria-describedby={d} value={draft.type} onChange={(e) => set('type', e.target.value as PoolType)}>
            <option value="unique">Unique</option>
            <option value="static">Static</option>
          </select>
        )}
      </Field>
      {text(
        'expirationCutoffDays',
        'Expiration cutoff (days)',
        uniqueOnly('A code is handed out only while its expiration is at least this many days away.'),
        number,
      )}
      <div className="field checkbox">
        <label>
          <input type="checkbox" checked={draft.active} onChange={(e) => set('active', e.target.checked)} /> Active
        </label>
        <div className="hint">An inactive pool hands out nothing, not even the default code.</div>
      </div>
      {text('defaultCode', 'Default code', 'Handed out when no code is left (optional, at most 50 characters).')}
      {text('defaultCodeExpiresAt', 'Default code expiration', undefined, { type: 'date' })}
      {text('threshold', 'Threshold', 'Notify the list below when the available codes fall to this number (optional).', {
        inputMode: 'numeric',
      })}
      {text('notificationEmails', 'Notification emails', 'Comma- or semicolon-delimited addresses.')}
      {text(
        'expiryReminderDays',
        'Expiry reminder (days before)',
        uniqueOnly(
          'Records a coupon_expiring event for each handed-out, unredeemed code this many days before it expires (a conversation can remind the contact). Empty: no reminders.',
        ),
        number,
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save Settings'}
        </button>
        {props.onCancel ? (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

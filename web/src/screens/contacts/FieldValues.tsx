import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, type ContactWithRuns, type FieldType } from '../../api.ts';
import type { FieldValueJson as FieldValue } from '../../../../src/modules/contacts/model.ts';
import { ErrorBanner } from '../../ui.tsx';
import { fmtDay, inputDay, isInstant } from './contactApi.ts';

/** A value as the console shows it: dates as dates (an instant as its day in the account's zone). */
export function shownValue(value: FieldValue | undefined, type: FieldType | undefined, timeZone: string): string {
  if (value === undefined || value === '') return '—';
  if (typeof value === 'string' && (type === 'date' || isInstant(value))) return fmtDay(value, timeZone);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** What the input holds → the JSON value PUT /v1/contacts takes (empty: null, which clears it). */
function parsed(text: string, type: FieldType): FieldValue | null {
  if (text.trim() === '') return null;
  if (type === 'number') return Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

/** Every field of the account's groups with this contact's value, each editable in place. */
export function FieldValues({ contact, timeZone }: { contact: ContactWithRuns; timeZone: string }) {
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  if (!groups.data) return <ErrorBanner error={groups.error} />;
  const shown = groups.data.filter((g) => g.fields.length > 0);
  if (shown.length === 0)
    return <p className="muted">No fields yet (Segmentation defines them). An action step of a conversation fills the coupon fields.</p>;
  return (
    <>
      {shown.map((g) => (
        <div key={g.id} className="panel">
          <h3>{g.name}</h3>
          <dl className="kv" aria-label={`${g.name} values`}>
            {g.fields.map((f) => (
              <FieldRow key={f.id} contact={contact} group={g.name} name={f.name} type={f.type} timeZone={timeZone} />
            ))}
          </dl>
        </div>
      ))}
    </>
  );
}

function FieldRow(props: { contact: ContactWithRuns; group: string; name: string; type: FieldType; timeZone: string }) {
  const { contact, group, name, type } = props;
  const queryClient = useQueryClient();
  const value = contact.fields[group]?.[name];
  const [editing, setEditing] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (text: string) => api.upsertContact({ email: contact.email, fields: { [group]: { [name]: parsed(text, type) } } }),
    onSuccess: async () => {
      setEditing(null);
      await queryClient.invalidateQueries({ queryKey: ['contact', contact.id] });
    },
  });
  const label = `${group} ${name}`;
  const error = save.error ? (Object.values(fieldErrors(save.error))[0] ?? (save.error as Error).message) : undefined;
  if (editing === null) {
    return (
      <div>
        <dt>{name}</dt>
        <dd>
          <span data-testid={`value-${group}-${name}`}>{shownValue(value, type, props.timeZone)}</span>{' '}
          <button
            type="button"
            className="ghost small"
            aria-label={`Edit ${label}`}
            onClick={() => setEditing(value === undefined ? '' : type === 'date' ? inputDay(String(value), props.timeZone) : String(value))}
          >
            Edit
          </button>
        </dd>
      </div>
    );
  }
  return (
    <div>
      <dt>{name}</dt>
      <dd>
        <form
          className="inline-edit"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate(editing);
          }}
        >
          {type === 'boolean' ? (
            <select aria-label={label} value={editing} onChange={(e) => setEditing(e.target.value)}>
              <option value="">—</option>
              <option value="true">yes</option>
              <option value="false">no</option>
            </select>
          ) : (
            <input
              aria-label={label}
              type={type === 'date' ? 'date' : type === 'number' ? 'number' : 'text'}
              value={editing}
              onChange={(e) => setEditing(e.target.value)}
            />
          )}
          <button type="submit" disabled={save.isPending}>
            Save
          </button>
          <button type="button" className="ghost" onClick={() => setEditing(null)}>
            Cancel
          </button>
          {error ? (
            <span className="error" role="alert">
              {error}
            </span>
          ) : null}
        </form>
      </dd>
    </div>
  );
}

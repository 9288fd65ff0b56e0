import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, type FieldGroup, type FieldType } from '../api.ts';
import { CopyButton, Empty, ErrorBanner, Field, Loading, OneFieldForm, TableHead } from '../ui.tsx';
import { RemoveButton } from './Removal.tsx';

const nameError = (err: unknown) => (err instanceof ApiError && err.code === 'name_taken' ? err.message : fieldErrors(err).name);

export function SegmentationScreen() {
  const queryClient = useQueryClient();
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => api.createFieldGroup(name.trim()),
    onSuccess: () => {
      setName('');
      queryClient.invalidateQueries({ queryKey: ['fieldGroups'] });
    },
  });
  return (
    <section>
      <div className="page-head">
        <h1>Segmentation</h1>
      </div>
      <p className="muted">
        Field groups hold typed fields on contacts. A coupon code goes into a text field, its expiration into a date field; copy a field’s
        snippet into a message.
      </p>
      <OneFieldForm
        label="New field group"
        hint="e.g. ShopperInfo"
        value={name}
        onChange={setName}
        error={nameError(create.error)}
        button="Create group"
        required
        busy={create.isPending}
        onSubmit={() => create.mutate()}
      />
      <ErrorBanner error={create.error && !nameError(create.error) ? create.error : groups.error} />
      {groups.isPending ? <Loading /> : null}
      {groups.data?.length === 0 ? (
        <Empty title="No field groups yet">Create one above (e.g. ShopperInfo), then add a text field for the coupon code.</Empty>
      ) : null}
      {groups.data?.map((g) => (
        <GroupCard key={g.id} group={g} />
      ))}
    </section>
  );
}

function GroupCard({ group }: { group: FieldGroup }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<FieldType>('text');
  const add = useMutation({
    mutationFn: () => api.addField(group.id, { name: name.trim(), type }),
    onSuccess: () => {
      setName('');
      queryClient.invalidateQueries({ queryKey: ['fieldGroups'] });
    },
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['fieldGroups'] });
  return (
    <article className="panel group" aria-label={`Field group ${group.name}`}>
      <h2>{group.name}</h2>
      <RemoveButton
        label="Delete group"
        confirm={`Delete the field group ${group.name}${group.fields.length ? ` and its ${group.fields.length} field(s)? Their values are removed from every contact.` : '?'}`}
        run={() => api.deleteFieldGroup(group.id)}
        onDone={refresh}
      />
      {group.fields.length === 0 ? (
        <p className="muted">No fields yet: add one below (a text field named like the pool, e.g. SCA10Off).</p>
      ) : (
        <table className="table compact" aria-label={`Fields of ${group.name}`}>
          <TableHead columns={['Field', 'Type', 'Snippet', { label: 'Copy', hidden: true }, { label: 'Delete', hidden: true }]} />
          <tbody>
            {group.fields.map((f) => (
              <tr key={f.id}>
                <td>{f.name}</td>
                <td>{f.type}</td>
                <td>
                  <code>{f.snippet}</code>
                </td>
                <td>
                  <CopyButton text={f.snippet} label="Copy snippet" />
                </td>
                <td>
                  <RemoveButton
                    label={`Delete ${f.name}`}
                    confirm={`Delete the field ${group.name}.${f.name}? Its values are removed from every contact.`}
                    run={() => api.deleteField(group.id, f.id)}
                    onDone={refresh}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="form inline"
        aria-label={`Add a field to ${group.name}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) add.mutate();
        }}
      >
        <Field label="Field name" error={nameError(add.error)}>
          {(id, d) => <input id={id} aria-describedby={d} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Data type" error={fieldErrors(add.error).type}>
          {(id, d) => (
            <select id={id} aria-describedby={d} value={type} onChange={(e) => setType(e.target.value as FieldType)}>
              <option value="text">text</option>
              <option value="date">date</option>
              <option value="number">number</option>
              <option value="boolean">boolean</option>
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" disabled={!name.trim() || add.isPending}>
            Save field
          </button>
        </div>
      </form>
      <ErrorBanner error={add.error && !nameError(add.error) && !fieldErrors(add.error).type ? add.error : undefined} />
    </article>
  );
}

import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { CopyButton, Empty, ErrorBanner, Field, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import type { Role } from '../../../../src/modules/accounts/permissions.ts';
import { Pager, useCursorPages } from '../../paging.tsx';
import { teamApi } from './api.ts';
import { RoleSelect } from './Users.tsx';
import { RemoveButton } from '../Removal.tsx';

/** API tokens (owners only): created with a role, shown once, listed with lastUsedAt, revoked. */
export function TokensScreen() {
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const tokens = useQuery({ queryKey: ['tokens', cursor], queryFn: () => teamApi.tokens(cursor) });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('marketer');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['tokens'] });
  const create = useMutation({
    mutationFn: () => teamApi.createToken({ name: name.trim(), role }),
    onSuccess: () => {
      setName('');
      void refresh();
    },
  });

  return (
    <section>
      <div className="page-head">
        <h1>API tokens</h1>
      </div>
      <p className="muted">
        Tokens let scripts and shops call the REST API (Authorization: Bearer …). A token is shown once, when it is created; keep it
        somewhere safe.
      </p>
      <form
        className="form inline"
        aria-label="Create a token"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <Field label="Token name" hint="e.g. shop checkout">
          {(id, d) => <input id={id} aria-describedby={d} required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Token role">{() => <RoleSelect label="Token role" value={role} onChange={setRole} />}</Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={!name.trim() || create.isPending}>
            Create token
          </button>
        </div>
      </form>
      {create.data ? (
        <div role="status" className="notice">
          <p>
            Token <strong>{create.data.name}</strong> ({create.data.role}) — shown only this once:
          </p>
          <code aria-label="New token">{create.data.token}</code> <CopyButton text={create.data.token} />
        </div>
      ) : null}
      <ErrorBanner error={create.error ?? tokens.error} />
      {tokens.isPending ? <Loading /> : null}
      {tokens.data?.items.length === 0 && pages.page === 1 ? <Empty title="No tokens">Create one above.</Empty> : null}
      {tokens.data?.items.length ? (
        <table className="table" aria-label="Tokens">
          <TableHead columns={['Name', 'Role', 'Merchants', 'Created', 'Last used', { label: 'Actions', hidden: true }]} />
          <tbody>
            {tokens.data.items.map((t) => (
              <tr key={t.id}>
                <td>
                  {t.name}
                  {t.installationAdmin ? ' (installation admin)' : ''}
                </td>
                <td>{t.role}</td>
                <td>{t.merchantIds ? t.merchantIds.join(', ') : 'all'}</td>
                <td>{fmtDateTime(t.createdAt)}</td>
                <td>{t.lastUsedAt ? fmtDateTime(t.lastUsedAt) : 'never'}</td>
                <td>
                  <RemoveButton
                    label="Revoke"
                    className="ghost"
                    confirm={`Revoke ${t.name}? Whatever uses it stops working.`}
                    run={() => teamApi.revokeToken(t.id)}
                    onDone={refresh}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={tokens.data?.nextCursor} />
    </section>
  );
}

import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fieldErrors, type Merchant } from '../../api.ts';
import { Badge, Empty, ErrorBanner, Field, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import { ROLES, type Role } from '../../../../src/modules/accounts/permissions.ts';
import { Pager, useCursorPages } from '../../paging.tsx';
import { teamApi } from './api.ts';
import { RemoveButton } from '../Removal.tsx';

export const ROLE_HINTS: Record<Role, string> = {
  owner: 'everything',
  admin: 'everything but users, tokens and account settings',
  marketer: 'pools, codes, contacts, messages, conversations',
  analyst: 'read only, no exports of personal data',
};

export function RoleSelect({ value, onChange, label }: { value: Role; onChange: (r: Role) => void; label: string }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r} — {ROLE_HINTS[r]}
        </option>
      ))}
    </select>
  );
}

/** Users (owners only): invite by email, change role, remove (their sessions end at once). */
export function UsersScreen({ merchants }: { merchants: Merchant[] }) {
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const users = useQuery({ queryKey: ['users', cursor], queryFn: () => teamApi.users(cursor) });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('marketer');
  const [merchantId, setMerchantId] = useState('');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['users'] });
  const invite = useMutation({
    mutationFn: () => teamApi.invite({ email: email.trim(), role, ...(merchantId ? { merchantIds: [merchantId] } : {}) }),
    onSuccess: () => {
      setEmail('');
      void refresh();
    },
  });
  const update = useMutation({
    mutationFn: (v: { id: string; role: Role }) => teamApi.updateUser(v.id, { role: v.role }),
    onSuccess: refresh,
  });
  const errors = fieldErrors(invite.error);

  return (
    <section>
      <div className="page-head">
        <h1>Users</h1>
      </div>
      <p className="muted">
        People who sign in to the console with email and password. An invitation mails a link to set a password, valid 7 days.
      </p>
      <form
        className="form inline"
        aria-label="Invite a user"
        onSubmit={(e) => {
          e.preventDefault();
          if (email.trim()) invite.mutate();
        }}
      >
        <Field label="Email" error={errors['body.email'] ?? errors.email}>
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              placeholder="name@example.com"
            />
          )}
        </Field>
        <Field label="Role">{() => <RoleSelect label="Role" value={role} onChange={setRole} />}</Field>
        <Field label="Merchants">
          {(id) => (
            <select id={id} value={merchantId} onChange={(e) => setMerchantId(e.target.value)}>
              <option value="">every merchant</option>
              {merchants.map((m) => (
                <option key={m.id} value={m.id}>
                  only {m.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={!email.trim() || invite.isPending}>
            Invite
          </button>
        </div>
      </form>
      {invite.isSuccess ? <p role="status">Invitation sent to {invite.data.email}.</p> : null}
      <ErrorBanner error={invite.error ?? update.error ?? users.error} />
      {users.isPending ? <Loading /> : null}
      {users.data?.items.length === 0 && pages.page === 1 ? <Empty title="No users yet">Invite your team above.</Empty> : null}
      {users.data?.items.length ? (
        <table className="table" aria-label="Users">
          <TableHead columns={['Email', 'Role', 'Merchants', 'Status', 'Since', { label: 'Actions', hidden: true }]} />
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>
                  <RoleSelect label={`Role of ${u.email}`} value={u.role} onChange={(r) => update.mutate({ id: u.id, role: r })} />
                </td>
                <td>{u.merchantIds ? u.merchantIds.map((id) => merchants.find((m) => m.id === id)?.name ?? id).join(', ') : 'all'}</td>
                <td>
                  <Badge tone={u.status === 'active' ? 'ok' : 'warn'}>{u.status}</Badge>
                </td>
                <td>{fmtDateTime(u.createdAt)}</td>
                <td>
                  <RemoveButton
                    label="Remove"
                    className="ghost"
                    confirm={`Remove ${u.email}? Their sessions end at once.`}
                    run={() => teamApi.removeUser(u.id)}
                    onDone={refresh}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={users.data?.nextCursor} />
    </section>
  );
}

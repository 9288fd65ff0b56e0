import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fieldErrors } from '../api.ts';
import { href } from '../router.ts';
import { Pager, useCursorPages } from '../paging.tsx';
import { Badge, Empty, ErrorBanner, fmtDateTime, Loading, OneFieldForm, TableHead } from '../ui.tsx';
import { suppressionsApi, type SuppressionReason } from './contacts/contactApi.ts';

const REASON_TONE: Record<SuppressionReason, 'muted' | 'bad' | 'warn' | 'info'> = {
  unsubscribed: 'muted',
  bounced: 'bad',
  complained: 'warn',
  manual: 'info',
};

/** The account's suppression list: search, add an address, lift one. */
export function SuppressionsScreen() {
  const queryClient = useQueryClient();
  const [input, setInput] = useState('');
  const [search, setSearch] = useState('');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const list = useQuery({ queryKey: ['suppressions', search, cursor], queryFn: () => suppressionsApi.list(search || undefined, cursor) });
  const [email, setEmail] = useState('');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['suppressions'] });
  const add = useMutation({
    mutationFn: () => suppressionsApi.add(email.trim()),
    onSuccess: async () => {
      setEmail('');
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (address: string) => suppressionsApi.remove(address), onSuccess: refresh });
  return (
    <section>
      <p className="crumbs">
        <a href={href('outbox')}>Outbox</a>
      </p>
      <div className="page-head">
        <h1>Suppressions</h1>
      </div>
      <p className="muted">
        Addresses that get no marketing mail: unsubscribed, bounced, complained or added by hand. Notices to staff and test sends still go
        out.
      </p>
      <div className="columns even">
        <OneFieldForm
          role="search"
          label="Search addresses"
          type="search"
          placeholder="part of an address"
          value={input}
          onChange={setInput}
          button="Search"
          onSubmit={() => {
            pages.reset();
            setSearch(input.trim());
          }}
        />
        <OneFieldForm
          label="Suppress an address"
          type="email"
          placeholder="name@example.com"
          value={email}
          onChange={setEmail}
          error={fieldErrors(add.error).email}
          button="Add"
          required
          busy={add.isPending}
          onSubmit={() => add.mutate()}
        />
      </div>
      <ErrorBanner error={list.error ?? (add.error && !fieldErrors(add.error).email ? add.error : undefined) ?? remove.error} />
      {list.isPending ? <Loading /> : null}
      {list.data?.items.length === 0 ? (
        <Empty title={search ? `No suppressed address matches “${search}”` : 'No suppressed addresses'} />
      ) : null}
      {list.data?.items.length ? (
        <table className="table" aria-label="Suppressed addresses">
          <TableHead columns={['Address', 'Reason', 'Since', { label: 'Actions', hidden: true }]} />
          <tbody>
            {list.data.items.map((s) => (
              <tr key={s.email}>
                <td>{s.email}</td>
                <td>
                  <Badge tone={REASON_TONE[s.reason]}>{s.reason}</Badge>
                  {s.detail ? <span className="muted"> {s.detail}</span> : null}
                </td>
                <td>{fmtDateTime(s.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    className="ghost"
                    aria-label={`Remove ${s.email}`}
                    onClick={() => remove.mutate(s.email)}
                    disabled={remove.isPending}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={list.data?.nextCursor} />
    </section>
  );
}

import { useState } from 'react';
import { Pager, useCursorPages } from '../paging.tsx';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, type Contact } from '../api.ts';
import { href, navigate } from '../router.ts';
import { Badge, Empty, ErrorBanner, fmtDateTime, Loading, OneFieldForm, TableHead } from '../ui.tsx';

export function ContactsScreen() {
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const list = useQuery({ queryKey: ['contacts', cursor], queryFn: () => api.contacts(cursor) });
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | undefined>();
  const [email, setEmail] = useState('');
  const add = useMutation({
    mutationFn: () => api.upsertContact({ email: email.trim() }),
    onSuccess: (c) => {
      setEmail('');
      queryClient.invalidateQueries({ queryKey: ['contacts'] });
      navigate('contacts', c.id);
    },
  });
  return (
    <section>
      <div className="page-head">
        <h1>Contacts</h1>
        <a className="button" href={href('contacts', 'import')}>
          Import a CSV
        </a>
      </div>
      <div className="columns even">
        <OneFieldForm
          role="search"
          label="Find by email"
          type="search"
          placeholder="name@example.com"
          value={search}
          onChange={setSearch}
          error={searchError}
          button="Search"
          required
          onSubmit={async () => {
            setSearchError(undefined);
            try {
              const c = await api.contactByEmail(search.trim());
              navigate('contacts', c.id);
            } catch (err) {
              setSearchError(
                err instanceof ApiError && err.status === 404
                  ? `No contact with the email ${search.trim()}.`
                  : String((err as Error).message),
              );
            }
          }}
        />
        <OneFieldForm
          label="Add a contact"
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
      <ErrorBanner error={list.error ?? (add.error && !fieldErrors(add.error).email ? add.error : undefined)} />
      {list.isPending ? <Loading /> : null}
      {list.data?.items.length === 0 && !cursor ? (
        <Empty title="No contacts yet">
          Contacts arrive with events (POST /v1/events), by API (PUT /v1/contacts) or a CSV import; add one above to try a preview.
        </Empty>
      ) : null}
      {list.data?.items.length ? <ContactTable contacts={list.data.items} /> : null}
      <Pager pages={pages} nextCursor={list.data?.nextCursor} />
    </section>
  );
}

function ContactTable({ contacts }: { contacts: Contact[] }) {
  return (
    <table className="table" aria-label="Contacts">
      <TableHead columns={['Email', 'Status', 'Updated']} />
      <tbody>
        {contacts.map((c) => (
          <tr key={c.id}>
            <td>
              <a href={href('contacts', c.id)}>{c.email}</a>
            </td>
            <td>{c.status === 'subscribed' ? <Badge tone="ok">subscribed</Badge> : <Badge tone="muted">unsubscribed</Badge>}</td>
            <td>{fmtDateTime(c.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export { ContactScreen } from './contacts/ContactPage.tsx';

import { useState } from 'react';
import { Pager, useCursorPages } from '../paging.tsx';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, fieldErrors, type Contact } from '../api.ts';
import { href, navigate } from '../router.ts';
import { Badge, Empty, ErrorBanner, Field, fmtDateTime, Loading } from '../ui.tsx';

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
        <form
          className="form inline"
          role="search"
          onSubmit={async (e) => {
            e.preventDefault();
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
        >
          <Field label="Find by email" error={searchError}>
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                type="search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                placeholder="name@example.com"
              />
            )}
          </Field>
          <div className="actions">
            <button type="submit" disabled={!search.trim()}>
              Search
            </button>
          </div>
        </form>
        <form
          className="form inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (email.trim()) add.mutate();
          }}
        >
          <Field label="Add a contact" error={fieldErrors(add.error).email}>
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                placeholder="name@example.com"
              />
            )}
          </Field>
          <div className="actions">
            <button type="submit" disabled={!email.trim() || add.isPending}>
              Add
            </button>
          </div>
        </form>
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
      <thead>
        <tr>
          <th scope="col">Email</th>
          <th scope="col">Status</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
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

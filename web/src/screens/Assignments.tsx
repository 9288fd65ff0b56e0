import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, type Pool } from '../api.ts';
import { href } from '../router.ts';
import { Empty, ErrorBanner, fmtDate, fmtDateTime } from '../ui.tsx';

const PAGE = 50;
const sourceLabel = { unique: 'unique code', static: 'static code', default: 'default code' } as const;

/** Who got which code: the pool's assignments, oldest first, a page at a time, and the CSV of all of them. */
export function AssignmentsList({ pool }: { pool: Pool }) {
  // Cursors of the pages seen so far: the first page has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [filter, setFilter] = useState('');
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({ queryKey: ['assignments', pool.id, cursor], queryFn: () => api.assignmentsPage(pool.id, cursor, PAGE) });
  const needle = filter.trim().toLowerCase();
  const rows = (page.data?.items ?? []).filter((a) => !needle || a.email.toLowerCase().includes(needle) || a.code.toLowerCase().includes(needle));
  return (
    <section aria-label="Assignments">
      <div className="page-head">
        <h2>Assignments</h2>
        <a className="button" href={api.assignmentsExportUrl(pool.id)} download>
          Export CSV
        </a>
      </div>
      <ErrorBanner error={page.error} />
      {page.data?.items.length === 0 && cursors.length === 1 ? <Empty title="No codes assigned yet">Each contact who gets a code from this pool shows here.</Empty> : null}
      {page.data?.items.length ? (
        <>
          <label className="inline">
            Find on this page{' '}
            <input type="search" placeholder="email or code" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Find on this page by email or code" />
          </label>
          <table className="table compact" aria-label="Assignments list">
            <thead>
              <tr>
                <th scope="col">Assigned</th>
                <th scope="col">Contact</th>
                <th scope="col">Code</th>
                <th scope="col">Kind</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td>{fmtDateTime(a.createdAt)}</td>
                  <td>
                    <a href={href('contacts', a.contactId)}>{a.email}</a>
                  </td>
                  <td>
                    <code>{a.code}</code>
                  </td>
                  <td>{sourceLabel[a.source]}</td>
                  <td>{a.expiresAt ? fmtDate(a.expiresAt) : 'never'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="actions">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </button>
            <span className="muted">Page {cursors.length}</span>
            <button type="button" disabled={!page.data.nextCursor} onClick={() => page.data.nextCursor && setCursors([...cursors, page.data.nextCursor])}>
              Next page
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

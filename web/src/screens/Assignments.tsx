import { useEffect, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type AssignmentFilter, type AssignmentStatus, type Pool } from '../api.ts';
import { href } from '../router.ts';
import { PAGE_LABELS, Pager, useCursorPages } from '../paging.tsx';
import { Badge, Empty, ErrorBanner, fmtDate, fmtDateTime, TableHead } from '../ui.tsx';

const PAGE = 50;
const sourceLabel = { unique: 'unique code', static: 'static code', default: 'default code' } as const;
const statusLabel: Record<AssignmentStatus, [string, 'ok' | 'info' | 'muted' | 'warn']> = {
  assigned: ['assigned', 'info'],
  redeemed: ['redeemed', 'ok'],
  expired: ['expired', 'muted'],
  released: ['given back', 'warn'],
};

/**
 * Who got which code: the pool's assignments, oldest first, a page at a time, found by email or
 * code and by status on the server (so a search covers the whole pool), and the CSV of the same.
 */
export function AssignmentsList({ pool }: { pool: Pool }) {
  const pages = useCursorPages();
  const { reset } = pages;
  const [typed, setTyped] = useState('');
  const [filter, setFilter] = useState<AssignmentFilter>({});
  // The search runs once typing pauses; a new filter starts again from page 1.
  useEffect(() => {
    const q = typed.trim();
    const timer = setTimeout(() => {
      setFilter((f) => (f.q === (q || undefined) ? f : { ...f, q: q || undefined }));
      reset();
    }, 250);
    return () => clearTimeout(timer);
  }, [typed, reset]);
  const cursor = pages.cursor;
  const page = useQuery({
    queryKey: ['assignments', pool.id, filter, cursor],
    queryFn: () => api.assignmentsPage(pool.id, cursor, PAGE, filter),
    placeholderData: keepPreviousData,
  });
  const filtered = Boolean(filter.q || filter.status);
  const rows = page.data?.items ?? [];
  return (
    <section aria-label="Assignments">
      <div className="page-head">
        <h2>Assignments</h2>
        <a className="button" href={api.assignmentsExportUrl(pool.id, filter)} download>
          {filtered ? 'Export these as CSV' : 'Export CSV'}
        </a>
      </div>
      <ErrorBanner error={page.error} />
      <div className="form inline filters">
        <label>
          Find{' '}
          <input
            type="search"
            placeholder="email or code"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            aria-label="Find by email or code"
          />
        </label>
        <label>
          Status{' '}
          <select
            aria-label="Status"
            value={filter.status ?? ''}
            onChange={(e) => {
              setFilter({ ...filter, status: (e.target.value || undefined) as AssignmentStatus | undefined });
              reset();
            }}
          >
            <option value="">any</option>
            {(Object.keys(statusLabel) as AssignmentStatus[]).map((s) => (
              <option key={s} value={s}>
                {statusLabel[s][0]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {page.data && rows.length === 0 && pages.page === 1 ? (
        filtered ? (
          <Empty title="No assignment matches">Try another email or code, or another status.</Empty>
        ) : (
          <Empty title="No codes assigned yet">Each contact who gets a code from this pool shows here.</Empty>
        )
      ) : null}
      {rows.length ? (
        <>
          <div className="table-scroll">
            <table className="table compact" aria-label="Assignments list">
              <TableHead columns={['Assigned', 'Contact', 'Code', 'Kind', 'Expires', 'Status']} />
              <tbody>
                {rows.map((a) => (
                  <tr key={a.id}>
                    <td>{fmtDateTime(a.createdAt)}</td>
                    <td>
                      {a.email === null ? (
                        <span className="muted" title="The person asked to be erased: the code stays used, never handed out again.">
                          erased contact
                        </span>
                      ) : (
                        <a href={href('contacts', a.contactId)}>{a.email}</a>
                      )}
                    </td>
                    <td>
                      <code>{a.code}</code>
                    </td>
                    <td>{sourceLabel[a.source]}</td>
                    <td>{a.expiresAt ? fmtDate(a.expiresAt) : 'never'}</td>
                    <td>{a.status ? <Badge tone={statusLabel[a.status][1]}>{statusLabel[a.status][0]}</Badge> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={page.data?.nextCursor} labels={PAGE_LABELS} steady />
        </>
      ) : null}
    </section>
  );
}

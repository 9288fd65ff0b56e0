import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, type Pool } from '../../api.ts';
import { PAGE_LABELS, Pager, useCursorPages } from '../../paging.tsx';
import { Badge, Empty, ErrorBanner, Field, FilterSelect, fmtDate, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import { CODE_STATUSES, exportPath, type CodeStatus } from '../../../../src/modules/codes/model.ts';
import { redemptionsApi, type CodesQuery } from '../redemptions/api.ts';

const TONE: Record<CodeStatus, 'ok' | 'info' | 'muted' | 'warn'> = {
  available: 'ok',
  assigned: 'info',
  redeemed: 'muted',
  expired: 'warn',
};

/** The pool page's Codes tab: search, status and upload filters, pages, and the CSV export of what is shown. */
export function PoolCodes({ pool }: { pool: Pool }) {
  const [draft, setDraft] = useState<CodesQuery>({});
  const [query, setQuery] = useState<CodesQuery>({});
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const uploads = useQuery({ queryKey: ['uploads', pool.id], queryFn: () => api.uploads(pool.id) });
  const page = useQuery({ queryKey: ['codes', pool.id, query, cursor], queryFn: () => redemptionsApi.codes(pool.id, query, cursor) });
  const set = (patch: CodesQuery) => setDraft((d) => ({ ...d, ...patch }));

  return (
    <section aria-label="Codes">
      <h2>Codes</h2>
      <form
        className="form inline"
        aria-label="Code filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(draft);
          pages.reset();
        }}
      >
        <Field label="Search" hint="A code's beginning, or a contact's email.">
          {(id, d) => (
            <input id={id} aria-describedby={d} value={draft.q ?? ''} onChange={(e) => set({ q: e.target.value.trim() || undefined })} />
          )}
        </Field>
        <FilterSelect label="Status" values={CODE_STATUSES} value={draft.status} onChange={(status) => set({ status })} />
        <Field label="Upload">
          {(id) => (
            <select id={id} value={draft.uploadId ?? ''} onChange={(e) => set({ uploadId: e.target.value || undefined })}>
              <option value="">All uploads</option>
              {uploads.data
                ?.filter((u) => u.status === 'imported')
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {fmtDateTime(u.createdAt)} — {u.source === 'file' ? (u.fileName ?? 'file') : 'generated'} ({u.imported})
                  </option>
                ))}
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit">Show</button>
          <a className="button" href={exportPath(pool.id, query)} download>
            Export CSV
          </a>
        </div>
      </form>
      <ErrorBanner error={page.error} />
      {page.isPending ? <Loading /> : null}
      {page.data?.items.length === 0 ? <Empty title="No codes match">Change the filters, or upload or generate codes.</Empty> : null}
      {page.data?.items.length ? (
        <table className="table compact" aria-label="Pool codes">
          <TableHead columns={['Code', 'Status', 'Expires', 'Contact', 'Assigned', 'Redeemed']} />
          <tbody>
            {page.data.items.map((c) => (
              <tr key={c.code}>
                <td>
                  <code>{c.code}</code>
                </td>
                <td>
                  <Badge tone={TONE[c.status]}>{c.status}</Badge>
                </td>
                <td>{fmtDate(c.expiresAt)}</td>
                <td>{c.email ?? '—'}</td>
                <td>{fmtDateTime(c.assignedAt)}</td>
                <td>{fmtDateTime(c.redeemedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={page.data?.nextCursor} labels={PAGE_LABELS} of="codes" />
    </section>
  );
}

import { useState } from 'react';
import { Pager, useCursorPages } from '../../paging.tsx';
import { useQuery } from '@tanstack/react-query';
import { Empty, ErrorBanner, Field, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import { teamApi } from './api.ts';

/** The audit log (owners and admins): who changed what, newest first, with filters. */
export function AuditScreen() {
  const [action, setAction] = useState('');
  const [resourceType, setResourceType] = useState('');
  const [filter, setFilter] = useState<{ action?: string; resourceType?: string }>({});
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const list = useQuery({
    queryKey: ['audit', filter, cursor],
    queryFn: () => teamApi.audit({ ...filter, ...(cursor ? { cursor } : {}) }),
  });
  return (
    <section>
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <p className="muted">
        Every change made through the API or the console: who, what, when. Summaries name the fields changed, never their values.
      </p>
      <form
        className="form inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setFilter({
            ...(action.trim() ? { action: action.trim() } : {}),
            ...(resourceType.trim() ? { resourceType: resourceType.trim() } : {}),
          });
        }}
      >
        <Field label="Action">
          {(id, d) => (
            <input id={id} aria-describedby={d} value={action} onChange={(e) => setAction(e.target.value)} placeholder="pool.update" />
          )}
        </Field>
        <Field label="Resource type">
          {(id, d) => (
            <input id={id} aria-describedby={d} value={resourceType} onChange={(e) => setResourceType(e.target.value)} placeholder="pool" />
          )}
        </Field>
        <div className="actions">
          <button type="submit">Filter</button>
        </div>
      </form>
      <ErrorBanner error={list.error} />
      {list.isPending ? <Loading /> : null}
      {list.data?.items.length === 0 ? <Empty title="Nothing recorded">Changes appear here as they are made.</Empty> : null}
      {list.data?.items.length ? (
        <table className="table" aria-label="Audit log">
          <TableHead columns={['When', 'Who', 'Action', 'Resource', 'Summary']} />
          <tbody>
            {list.data.items.map((e) => (
              <tr key={e.id}>
                <td>{fmtDateTime(e.at)}</td>
                <td>
                  {e.actor.name} <span className="muted">({e.actor.type})</span>
                </td>
                <td>{e.action}</td>
                <td>
                  {e.resource.type}
                  {e.resource.id ? <span className="muted"> {e.resource.id}</span> : null}
                </td>
                <td>{e.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={list.data?.nextCursor} labels={['Newer', 'Older']} />
    </section>
  );
}

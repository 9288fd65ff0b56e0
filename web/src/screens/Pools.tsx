import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, type Merchant, type Pool } from '../api.ts';
import { href, navigate } from '../router.ts';
import { Pager, useCursorPages } from '../paging.tsx';
import { Badge, Dialog, Empty, ErrorBanner, fmtDate, fmtNumber, Loading, TableHead } from '../ui.tsx';
import { PoolForm } from './PoolForm.tsx';
import { UploadDialog } from './Upload.tsx';

/** Empty: nothing left to hand out; low: at or below the pool's threshold. */
export function stockBadge(pool: Pool) {
  if (pool.archivedAt) return <Badge tone="muted">archived</Badge>;
  if (!pool.active) return <Badge tone="muted">inactive</Badge>;
  if (pool.type === 'static') return null;
  if (pool.counts.available === 0) return <Badge tone="bad">empty</Badge>;
  if (pool.threshold !== null && pool.counts.available <= pool.threshold) return <Badge tone="warn">low</Badge>;
  return <Badge tone="ok">ok</Badge>;
}

export function PoolsScreen({ merchant, merchantsLoading }: { merchant: Merchant | undefined; merchantsLoading: boolean }) {
  // The pools in use, or (the Archived view) the archived ones, listed apart.
  const [archived, setArchived] = useState(false);
  const pages = useCursorPages(`${merchant?.id}:${archived}`);
  const cursor = pages.cursor;
  const list = useQuery({
    queryKey: ['pools', merchant?.id, archived ? 'archived' : 'current', cursor],
    queryFn: () => api.poolsPage(merchant!.id, archived, cursor),
    enabled: Boolean(merchant),
  });
  const pools = list.data?.items;
  const [adding, setAdding] = useState(false);
  const [uploadTo, setUploadTo] = useState<Pool | undefined>();

  if (merchantsLoading) return <Loading />;
  if (!merchant) return <Empty title="No merchant yet">Create a merchant over the API (POST /v1/merchants) to hold your pools.</Empty>;

  return (
    <section>
      <div className="page-head">
        <h1>Coupon Manager</h1>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add New Pool
        </button>
      </div>
      <p className="muted">Pools of {merchant.name}. Create one pool per offer (e.g. a 10% and a 15% pool for cart abandonment).</p>
      <div className="actions" role="group" aria-label="Which pools">
        <button type="button" aria-pressed={!archived} className={archived ? 'small' : 'small primary'} onClick={() => setArchived(false)}>
          In use
        </button>
        <button type="button" aria-pressed={archived} className={archived ? 'small primary' : 'small'} onClick={() => setArchived(true)}>
          Archived
        </button>
      </div>
      <ErrorBanner error={list.error} />
      {list.isPending ? <Loading /> : null}
      {pools?.length === 0 && pages.page === 1 && !archived ? (
        <Empty title="No coupon pools yet">Click “Add New Pool” to create one, then upload or generate its codes.</Empty>
      ) : null}
      {pools?.length === 0 && pages.page === 1 && archived ? (
        <Empty title="No archived pools">A pool you archive (on its page) is listed here, apart, until you unarchive it.</Empty>
      ) : null}
      {pools?.length ? (
        <table className="table" aria-label={archived ? 'Archived pools' : 'Coupon pools'}>
          <TableHead
            columns={[
              'Name',
              'Type',
              'Active',
              { label: 'Available', num: true },
              { label: 'Total', num: true },
              { label: 'Assigned', num: true },
              { label: 'Expired', num: true },
              { label: 'In cutoff', num: true },
              { label: 'Threshold', num: true },
              'Runs out',
              { label: 'Actions', hidden: true },
            ]}
          />
          <tbody>
            {pools.map((p) => (
              <tr key={p.id} data-pool={p.name}>
                <td>
                  <a href={href('pools', p.id)}>{p.name}</a> {stockBadge(p)}
                </td>
                <td>{p.type}</td>
                <td>{p.active ? 'yes' : 'no'}</td>
                <td className="num" data-count="available">
                  {fmtNumber(p.counts.available)}
                </td>
                <td className="num">{fmtNumber(p.counts.total)}</td>
                <td className="num">{fmtNumber(p.counts.assigned)}</td>
                <td className="num">{fmtNumber(p.counts.expired)}</td>
                <td className="num">{fmtNumber(p.counts.withinCutoff)}</td>
                <td className="num">{p.threshold ?? '—'}</td>
                <td>{p.type === 'static' ? '—' : fmtDate(p.runsOutAt)}</td>
                <td className="row-actions">
                  <button type="button" className="small" aria-label={`Edit ${p.name}`} onClick={() => navigate('pools', p.id)}>
                    ✎ Edit
                  </button>
                  {p.type === 'unique' && !p.archivedAt ? (
                    <button type="button" className="small" aria-label={`Upload codes to ${p.name}`} onClick={() => setUploadTo(p)}>
                      ⇪ Upload
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pages={pages} nextCursor={list.data?.nextCursor} />
      {adding ? (
        <Dialog title="Add New Pool" onClose={() => setAdding(false)}>
          <PoolForm
            merchantId={merchant.id}
            onSaved={(pool) => {
              setAdding(false);
              navigate('pools', pool.id);
            }}
            onCancel={() => setAdding(false)}
          />
        </Dialog>
      ) : null}
      {uploadTo ? <UploadDialog pool={uploadTo} onClose={() => setUploadTo(undefined)} /> : null}
    </section>
  );
}

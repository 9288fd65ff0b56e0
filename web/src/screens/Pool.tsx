import { Fragment, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fieldErrors, type Merchant, type Pool, type Upload } from '../api.ts';
import { href } from '../router.ts';
import { Badge, Empty, ErrorBanner, Field, fmtDate, fmtDateTime, fmtNumber, Loading, TableHead } from '../ui.tsx';
import { PoolForm } from './PoolForm.tsx';
import { stockBadge } from './Pools.tsx';
import { UploadDialog, UploadReport } from './Upload.tsx';
import { StaticRowsEditor } from './StaticRows.tsx';
import { DepletionChart } from './pool/Chart.tsx';
import { RedemptionFigures } from './pool/Figures.tsx';
import { AssignmentsList } from './Assignments.tsx';
import { StaticSummary } from './pool/StaticSummary.tsx';
import { PoolCodes } from './pool/Codes.tsx';
import { UndoDialog, undoneSummary, useArchive } from './pool/Lifecycle.tsx';
import { isUndoable } from '../../../src/modules/uploads/model.ts';

export function PoolScreen({
  poolId,
  merchants,
  onMerchant,
}: {
  poolId: string;
  merchants: Merchant[];
  onMerchant: (merchantId: string) => void;
}) {
  const pool = useQuery({ queryKey: ['pool', poolId], queryFn: () => api.pool(poolId) });
  const [uploading, setUploading] = useState(false);
  const merchantId = pool.data?.merchantId;
  const tell = useRef(onMerchant);
  tell.current = onMerchant;
  // The pool's merchant is the one the switcher shows (a link may open a pool of another merchant);
  // told once per pool, so a choice in the switcher afterwards is not undone.
  useEffect(() => {
    if (merchantId) tell.current(merchantId);
  }, [merchantId]);
  if (pool.isPending) return <Loading />;
  if (!pool.data) return <ErrorBanner error={pool.error} />;
  return <PoolPage pool={pool.data} merchants={merchants} uploading={uploading} setUploading={setUploading} />;
}

function PoolPage({
  pool: p,
  merchants,
  uploading,
  setUploading,
}: {
  pool: Pool;
  merchants: Merchant[];
  uploading: boolean;
  setUploading: (on: boolean) => void;
}) {
  const merchant = merchants.find((m) => m.id === p.merchantId);
  const archive = useArchive(p);
  // An archived pool takes no codes (the server refuses them too): no upload, generate or row editing.
  const archived = p.archivedAt !== null;
  return (
    <section>
      <p className="crumbs">
        <a href={href('pools')}>Coupon Manager</a> › {merchant?.name ?? 'merchant'}
      </p>
      <div className="page-head">
        <h1>
          {p.name} {stockBadge(p)}
        </h1>
        <div className="actions">
          {p.type === 'unique' && !archived ? (
            <button type="button" className="primary" onClick={() => setUploading(true)}>
              Upload codes
            </button>
          ) : null}
          {archive.button}
        </div>
      </div>
      {archive.problem}
      {archived ? (
        <p className="banner warning" role="note">
          Archived on {fmtDate(p.archivedAt)}: this pool hands out no codes and takes none. Unarchive it to use it again.
        </p>
      ) : null}
      {p.type === 'static' ? <StaticSummary pool={p} /> : <Counts pool={p} />}
      <RedemptionFigures pool={p} />
      <div className={p.type === 'static' ? 'columns stacked' : 'columns'}>
        <div>
          {p.type === 'unique' ? (
            <>
              <h2>Available codes over time</h2>
              <DepletionChart pool={p} />
              <UploadsHistory pool={p} />
              {archived ? null : <GenerateForm pool={p} />}
            </>
          ) : (
            <>
              <h2>Static codes</h2>
              {archived ? null : <StaticRowsEditor pool={p} />}
            </>
          )}
        </div>
        <div className="panel">
          <h2>Settings</h2>
          <PoolForm key={p.updatedAt} merchantId={p.merchantId} pool={p} onSaved={() => {}} />
        </div>
      </div>
      <AssignmentsList pool={p} />
      {p.type === 'unique' ? <PoolCodes pool={p} /> : null}
      {uploading ? <UploadDialog pool={p} onClose={() => setUploading(false)} /> : null}
    </section>
  );
}

function Counts({ pool }: { pool: Pool }) {
  const c = pool.counts;
  const items: [string, string, string][] = [
    ['available', 'Available', fmtNumber(c.available)],
    ['total', 'Total', fmtNumber(c.total)],
    ['assigned', 'Assigned', fmtNumber(c.assigned)],
    ['expired', 'Expired', fmtNumber(c.expired)],
    ['withinCutoff', 'Within cutoff', fmtNumber(c.withinCutoff)],
    ['runsOutAt', 'Runs out (7-day rate)', fmtDate(pool.runsOutAt)],
  ];
  return (
    <dl className="counts" aria-label="Pool counts">
      {items.map(([key, label, value]) => (
        <div key={key} data-count={key}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function UploadsHistory({ pool }: { pool: Pool }) {
  const poolId = pool.id;
  const uploads = useQuery({ queryKey: ['uploads', poolId], queryFn: () => api.uploads(poolId) });
  const [open, setOpen] = useState<string | undefined>();
  const [undoing, setUndoing] = useState<Upload | undefined>();
  return (
    <>
      <h2>Uploads</h2>
      <ErrorBanner error={uploads.error} />
      {uploads.data?.length === 0 ? <Empty title="No codes yet">Upload a .txt file of codes or generate codes below.</Empty> : null}
      {uploads.data?.length ? (
        <table className="table compact" aria-label="Uploads">
          <TableHead
            columns={[
              'When',
              'Source',
              'Status',
              { label: 'Lines', num: true },
              { label: 'Imported', num: true },
              { label: 'Duplicates', num: true },
              { label: 'Invalid', num: true },
              { label: 'Actions', hidden: true },
            ]}
          />
          <tbody>
            {uploads.data.map((u) => (
              <Fragment key={u.id}>
                <tr>
                  <td>{fmtDateTime(u.createdAt)}</td>
                  <td>{u.source === 'file' ? (u.fileName ?? 'file') : 'generated'}</td>
                  <td>
                    {u.status === 'undone' ? (
                      <span title={undoneSummary(u)}>
                        <Badge tone="muted">undone</Badge> <span className="muted">{undoneSummary(u)}</span>
                      </span>
                    ) : (
                      u.status
                    )}
                  </td>
                  <td className="num">{fmtNumber(u.lines)}</td>
                  <td className="num">{fmtNumber(u.imported)}</td>
                  <td className="num">{fmtNumber(u.duplicates)}</td>
                  <td className="num">{fmtNumber(u.rejected)}</td>
                  <td className="row-actions">
                    {isUndoable(u) ? (
                      <button
                        type="button"
                        className="small"
                        aria-label={`Undo upload ${u.fileName ?? 'of generated codes'}`}
                        onClick={() => setUndoing(u)}
                      >
                        Undo
                      </button>
                    ) : null}
                    {u.errorCount ? (
                      <button
                        type="button"
                        className="small"
                        aria-expanded={open === u.id}
                        onClick={() => setOpen(open === u.id ? undefined : u.id)}
                      >
                        {open === u.id ? 'Hide report' : 'Report'}
                      </button>
                    ) : null}
                  </td>
                </tr>
                {open === u.id ? (
                  <tr>
                    <td colSpan={8}>
                      <UploadReport upload={u} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      ) : null}
      {undoing ? <UndoDialog pool={pool} upload={undoing} onClose={() => setUndoing(undefined)} /> : null}
    </>
  );
}

function GenerateForm({ pool }: { pool: Pool }) {
  const queryClient = useQueryClient();
  const [count, setCount] = useState('1000');
  const [length, setLength] = useState('10');
  const [prefix, setPrefix] = useState('');
  const [expiresOn, setExpiresOn] = useState('');
  const generate = useMutation({
    mutationFn: () =>
      api.generate(pool.id, {
        count: Number(count),
        length: Number(length),
        ...(prefix ? { prefix } : {}),
        ...(expiresOn ? { expiresOn } : {}),
      }),
    onSuccess: () => {
      for (const key of [['pools'], ['pool', pool.id], ['uploads', pool.id], ['history', pool.id]])
        queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const errors = fieldErrors(generate.error);
  const countError = !/^\d+$/.test(count) || Number(count) < 1 ? 'A whole number, 1 or more.' : errors.count;
  const lengthError = !/^\d+$/.test(length) || Number(length) < 4 || Number(length) > 50 ? 'Between 4 and 50 characters.' : errors.length;
  return (
    <>
      <h2>Generate codes</h2>
      <form
        className="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (!countError && !lengthError) generate.mutate();
        }}
      >
        <Field label="How many" error={countError}>
          {(id, d) => <input id={id} aria-describedby={d} inputMode="numeric" value={count} onChange={(e) => setCount(e.target.value)} />}
        </Field>
        <Field label="Length" error={lengthError} hint="Including the prefix.">
          {(id, d) => <input id={id} aria-describedby={d} inputMode="numeric" value={length} onChange={(e) => setLength(e.target.value)} />}
        </Field>
        <Field label="Prefix" error={errors.prefix}>
          {(id, d) => <input id={id} aria-describedby={d} value={prefix} onChange={(e) => setPrefix(e.target.value)} />}
        </Field>
        <Field label="Expires on" error={errors.expiresOn} hint="Optional.">
          {(id, d) => <input id={id} aria-describedby={d} type="date" value={expiresOn} onChange={(e) => setExpiresOn(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" disabled={generate.isPending}>
            {generate.isPending ? 'Generating…' : 'Generate'}
          </button>
        </div>
      </form>
      <ErrorBanner error={generate.error && !Object.keys(errors).length ? generate.error : undefined} />
      {generate.data ? <p role="status">Generated {fmtNumber(generate.data.imported)} codes.</p> : null}
    </>
  );
}

import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Merchant } from '../../api.ts';
import { PAGE_LABELS, Pager, useCursorPages } from '../../paging.tsx';
import { Badge, Empty, ErrorBanner, Field, FilterSelect, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import { REDEMPTION_SOURCES } from '../../../../src/modules/redemptions/model.ts';
import { redemptionsApi, type RedemptionFilters, type RedemptionJson } from './api.ts';
import { RedemptionsImport } from './Import.tsx';
import { RemoveButton } from '../Removal.tsx';

/** A merchant's redemptions: filters, pages, rollback, and the import of a file of orders. */
export function RedemptionsScreen({ merchant }: { merchant: Merchant | undefined }) {
  const [filters, setFilters] = useState<RedemptionFilters>({});
  const [draft, setDraft] = useState<RedemptionFilters>({});
  const [importing, setImporting] = useState(false);
  const merchantId = merchant?.id ?? '';
  const pages = useCursorPages(merchantId);
  const cursor = pages.cursor;
  const page = useQuery({
    queryKey: ['redemptions', merchantId, filters, cursor],
    queryFn: () => redemptionsApi.list(merchantId, filters, cursor),
    enabled: merchantId !== '',
  });
  if (!merchant) return <Empty title="No merchant yet">Create a merchant first.</Empty>;
  const set = (patch: RedemptionFilters) => setDraft((d) => ({ ...d, ...patch }));

  return (
    <section>
      <div className="page-head">
        <h1>Redemptions — {merchant.name}</h1>
        <button type="button" className="primary" onClick={() => setImporting(true)}>
          Import redemptions
        </button>
      </div>
      <form
        className="form inline"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          pages.reset();
        }}
      >
        <Field label="Code">
          {(id) => <input id={id} value={draft.code ?? ''} onChange={(e) => set({ code: e.target.value || undefined })} />}
        </Field>
        <Field label="Order">
          {(id) => <input id={id} value={draft.orderId ?? ''} onChange={(e) => set({ orderId: e.target.value || undefined })} />}
        </Field>
        <FilterSelect label="Source" values={REDEMPTION_SOURCES} value={draft.source} onChange={(source) => set({ source })} />
        <FilterSelect
          label="Status"
          values={['live', 'rolled_back'] as const}
          names={{ live: 'Redeemed', rolled_back: 'Rolled back' }}
          value={draft.status}
          onChange={(status) => set({ status })}
        />
        <div className="actions">
          <button type="submit">Filter</button>
        </div>
      </form>
      <ErrorBanner error={page.error} />
      {page.isPending && merchantId ? <Loading /> : null}
      {page.data?.items.length === 0 ? (
        <Empty title="No redemptions">Orders that used a code show here: by the checkout API, an import, events or Shopify.</Empty>
      ) : null}
      {page.data?.items.length ? <RedemptionsTable items={page.data.items} merchantId={merchantId} /> : null}
      <Pager pages={pages} nextCursor={page.data?.nextCursor} labels={PAGE_LABELS} />
      {importing ? <RedemptionsImport merchantId={merchantId} onClose={() => setImporting(false)} /> : null}
    </section>
  );
}

function RedemptionsTable({ items, merchantId }: { items: RedemptionJson[]; merchantId: string }) {
  const queryClient = useQueryClient();
  return (
    <>
      <table className="table" aria-label="Redemptions">
        <TableHead
          columns={[
            'Redeemed',
            'Code',
            'Order',
            'Contact',
            { label: 'Amount', num: true },
            'Source',
            'Status',
            { label: 'Actions', hidden: true },
          ]}
        />
        <tbody>
          {items.map((r) => (
            <tr key={r.id}>
              <td>{fmtDateTime(r.redeemedAt)}</td>
              <td>
                <code>{r.code}</code>
              </td>
              <td>{r.orderId}</td>
              <td>{r.email ?? '—'}</td>
              <td className="num">{r.amount ? `${r.amount} ${r.currency ?? ''}` : '—'}</td>
              <td>{r.source}</td>
              <td>{r.rolledBackAt ? <Badge tone="muted">rolled back</Badge> : <Badge tone="ok">redeemed</Badge>}</td>
              <td>
                {r.rolledBackAt ? null : (
                  <RemoveButton
                    label="Roll back"
                    className="small"
                    confirm={`Roll back the redemption of ${r.code} by order ${r.orderId}? It will count nowhere.`}
                    run={() => redemptionsApi.rollback(r.id)}
                    onDone={() => void queryClient.invalidateQueries({ queryKey: ['redemptions', merchantId] })}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

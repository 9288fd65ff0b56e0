import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Merchant } from '../../api.ts';
import { shopifySettingsInput } from '../../../../src/modules/integrations/model.ts';
import { Badge, Empty, ErrorBanner, Field, fmtDateTime, Loading, TableHead } from '../../ui.tsx';
import { integrationsApi, type DeliveryJson } from './api.ts';

const TONE = { processed: 'ok', duplicate: 'muted', ignored: 'muted', failed: 'bad' } as const;

/** What a delivery did, in one line. */
function summary(d: DeliveryJson): string {
  const detail = d.detail as {
    redemptions?: { code: string; recorded: boolean; reason?: string }[];
    rolledBack?: string[];
    error?: string;
    event?: string;
  };
  if (d.result === 'failed') return detail.error ?? 'not an order';
  if (d.result === 'ignored') return 'topic not handled';
  if (d.result === 'duplicate') return 'repeat of an earlier delivery';
  if (detail.rolledBack) return `rolled back: ${detail.rolledBack.join(', ') || 'nothing'}`;
  const parts = (detail.redemptions ?? []).map((r) => (r.recorded ? `${r.code} redeemed` : `${r.code}: ${r.reason ?? 'already recorded'}`));
  return [...parts, detail.event === 'recorded' ? 'order_placed sent' : null].filter(Boolean).join(' · ') || 'no discount code';
}

/** Integrations of the selected merchant: Shopify's orders webhook (URL to paste, secret, last deliveries). */
export function IntegrationsScreen({ merchant }: { merchant: Merchant | undefined }) {
  const queryClient = useQueryClient();
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const status = useQuery({
    queryKey: ['shopify', merchant?.id],
    queryFn: () => integrationsApi.shopify(merchant!.id),
    enabled: merchant !== undefined,
    refetchInterval: 5000,
  });
  const save = useMutation({
    mutationFn: (value: string) => integrationsApi.saveShopifySecret(merchant!.id, value),
    onSuccess: () => {
      setSecret('');
      void queryClient.invalidateQueries({ queryKey: ['shopify', merchant?.id] });
    },
  });
  if (!merchant) return <Empty title="No merchant">Create a merchant first: integrations belong to a merchant.</Empty>;
  return (
    <section>
      <div className="page-head">
        <h1>Integrations</h1>
      </div>
      <h2>Shopify</h2>
      <p className="muted">
        Orders placed with a discount code of {merchant.name} are recorded as redemptions, an <code>order_placed</code> event ends the runs
        that wait for it, and a cancelled order gives the code back.
      </p>
      <ErrorBanner error={status.error ?? save.error} />
      {status.isPending ? <Loading /> : null}
      {status.data ? (
        <>
          <ol className="help-steps">
            <li>
              In Shopify admin, open Settings → Notifications → Webhooks and create webhooks for “Order creation”, “Order payment” and
              “Order cancellation”, format JSON.
            </li>
            <li>
              Paste this URL into each: <code className="copyable">{status.data.webhookUrl}</code>{' '}
              <button type="button" className="ghost" onClick={() => void navigator.clipboard?.writeText(status.data.webhookUrl)}>
                Copy
              </button>
            </li>
            <li>Copy the signing secret Shopify shows under the list of webhooks and save it here.</li>
          </ol>
          <form
            className="form inline"
            onSubmit={(e) => {
              e.preventDefault();
              const parsed = shopifySettingsInput.safeParse({ webhookSecret: secret });
              setProblem(parsed.success ? null : (parsed.error.issues[0]?.message ?? 'invalid secret'));
              if (parsed.success) save.mutate(parsed.data.webhookSecret);
            }}
          >
            <Field
              label="Webhook signing secret"
              hint={
                status.data.configured
                  ? `Saved ${status.data.updatedAt ? fmtDateTime(status.data.updatedAt) : ''}; never shown again. Saving replaces it.`
                  : 'Not set yet: deliveries are refused (401) until it is.'
              }
              error={problem ?? undefined}
            >
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  type="password"
                  autoComplete="off"
                  value={secret}
                  onChange={(e) => setSecret(e.target.value)}
                />
              )}
            </Field>
            <div className="actions">
              <button type="submit" disabled={save.isPending || secret.trim() === ''}>
                Save secret
              </button>
              {status.data.configured ? <Badge tone="ok">connected</Badge> : <Badge tone="warn">not connected</Badge>}
            </div>
          </form>
          <h3>Last deliveries</h3>
          {status.data.deliveries.length === 0 ? (
            <Empty title="No deliveries yet">Shopify's “Send test notification” shows up here once the secret is saved.</Empty>
          ) : (
            <table aria-label="Last deliveries">
              <TableHead columns={['Received', 'Topic', 'Order', 'Result', 'What it did']} />
              <tbody>
                {status.data.deliveries.map((d) => (
                  <tr key={d.id}>
                    <td>{fmtDateTime(d.receivedAt)}</td>
                    <td>{d.topic}</td>
                    <td>{d.orderId ?? '—'}</td>
                    <td>
                      <Badge tone={TONE[d.result]}>{d.result}</Badge>
                    </td>
                    <td>{summary(d)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </section>
  );
}

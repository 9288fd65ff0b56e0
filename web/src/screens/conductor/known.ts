import { useQueries, useQuery } from '@tanstack/react-query';
import { api, type Merchant } from '../../api.ts';
import type { Draft, Known } from './check.ts';
import { walkDraft } from './tree.ts';

/**
 * What the publish check needs to know of the account (pools, fields, messages, the coupon fields
 * other conversations fill), from the same queries the editor's selects use; undefined while any
 * of it is loading (the server then checks alone).
 */
export function useKnown(draft: Draft, conversationId: string | undefined, merchants: Merchant[]): Known | undefined {
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  const messages = useQuery({ queryKey: ['messages'], queryFn: api.messages });
  const conversations = useQuery({ queryKey: ['conversations'], queryFn: api.conversations });
  const named = walkDraft(draft.steps).flatMap(({ step: s }) =>
    s.type === 'action' && s.action.type === 'assignCoupon' && s.action.merchantId ? [s.action.merchantId] : [],
  );
  const merchantIds = [...new Set([...merchants.map((m) => m.id), ...named])];
  const pools = useQueries({ queries: merchantIds.map((id) => ({ queryKey: ['pools', id], queryFn: () => api.pools(id) })) });
  if (!groups.data || !messages.data || !conversations.data || pools.some((p) => !p.data)) return undefined;
  const couponFieldsElsewhere = new Set<string>();
  for (const other of conversations.data) {
    if (other.id === conversationId) continue;
    for (const { step: s } of walkDraft(other.steps)) {
      if (s.type !== 'action' || s.action.type !== 'assignCoupon') continue;
      couponFieldsElsewhere.add(s.action.saveCodeTo);
      if (s.action.saveExpirationTo) couponFieldsElsewhere.add(s.action.saveExpirationTo);
    }
  }
  return {
    pools: new Map(
      pools
        .flatMap((p) => p.data ?? [])
        .map((p) => [p.id, { merchantId: p.merchantId, name: p.name, defaultCode: p.defaultCode !== null }]),
    ),
    groups: groups.data,
    messageIds: messages.data.map((m) => m.id),
    couponFieldsElsewhere,
  };
}

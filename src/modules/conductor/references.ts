import type { Liquid } from 'liquidjs';
import { createEngine } from '../messages/liquid.ts';
import type { TemplatePart } from '../messages/template.ts';
import type { AssignCoupon, ConversationDocument } from './model.ts';

let engine: Liquid | undefined;

/**
 * The ids of the fields a message's templates read (`{{ Group.Field }}`, `{{ Group["Field"] }}`),
 * given the account's groups. Templates that do not parse read nothing here (validation reports them).
 */
export function fieldsRead(parts: readonly TemplatePart[], groups: readonly { name: string; fields: readonly { id: string; name: string }[] }[]): Set<string> {
  engine ??= createEngine({ escapeHtml: false, timeZone: 'UTC', catchAllErrors: true });
  const byName = new Map(groups.map((g) => [g.name, new Map(g.fields.map((f) => [f.name, f.id]))]));
  const used = new Set<string>();
  for (const part of parts) {
    let analysis;
    try {
      analysis = engine.analyzeSync(engine.parse(part.source), { partials: false });
    } catch {
      continue;
    }
    for (const variables of Object.values(analysis.globals)) {
      for (const v of variables) {
        const [root, property] = v.segments;
        if (typeof root !== 'string' || property === undefined || typeof property === 'object') continue;
        const id = byName.get(root)?.get(String(property));
        if (id) used.add(id);
      }
    }
  }
  return used;
}

// ---------------------------------------------------------------------------------------------
// Merchant scope (docs/ARCHITECTURE.md, "Merchant scope"): which merchants a conversation uses.

/** The assignCoupon actions of a document. */
export const couponActions = (doc: ConversationDocument): AssignCoupon[] =>
  doc.steps.flatMap((s) => (s.type === 'action' && s.action.type === 'assignCoupon' ? [s.action] : []));

/** The merchants one assignCoupon step uses: the one it names and the one that owns its pool. */
export function merchantsOfStep(action: AssignCoupon, poolMerchants: ReadonlyMap<string, string>): string[] {
  const owner = poolMerchants.get(action.poolId);
  return owner && owner !== action.merchantId ? [action.merchantId, owner] : [action.merchantId];
}

/** May a caller limited to `allowed` (null: every merchant) see everything these merchants own? */
export const withinMerchants = (merchants: Iterable<string>, allowed: readonly string[] | null): boolean =>
  allowed === null || [...merchants].every((m) => allowed.includes(m));

export interface MerchantScope {
  /** Conversations that use a merchant outside the caller's: left out of lists, 403 when named. */
  hiddenConversations: Set<string>;
  /** Fields an assignCoupon step of another merchant's pool fills: left out of contacts. */
  hiddenFields: Set<string>;
}

/**
 * What a caller limited to `allowed` must not see, from every document of the account (drafts and
 * every published version) and the owners of the pools they name. A conversation uses a merchant
 * when any of its documents has a step that names it or one of its pools.
 */
export function merchantScope(
  documents: readonly { conversationId: string; document: ConversationDocument }[],
  poolMerchants: ReadonlyMap<string, string>,
  allowed: readonly string[],
): MerchantScope {
  const scope: MerchantScope = { hiddenConversations: new Set(), hiddenFields: new Set() };
  for (const { conversationId, document } of documents) {
    for (const action of couponActions(document)) {
      if (withinMerchants(merchantsOfStep(action, poolMerchants), allowed)) continue;
      scope.hiddenConversations.add(conversationId);
      scope.hiddenFields.add(action.saveCodeTo);
      if (action.saveExpirationTo) scope.hiddenFields.add(action.saveExpirationTo);
    }
  }
  return scope;
}

import type { Liquid } from 'liquidjs';
import { createEngine } from '../messages/liquid.ts';
import type { TemplatePart } from '../messages/template.ts';
import { allSteps, isFieldCondition, leavesOf, type AssignCoupon, type ConversationDocument } from './model.ts';

let engine: Liquid | undefined;

/** `[group, field]` names each template source reads, by source (bounded: cleared when full). */
const namesBySource = new Map<string, [string, string][]>();
const MAX_CACHED_SOURCES = 2_000;

function namesRead(source: string): [string, string][] {
  const cached = namesBySource.get(source);
  if (cached) return cached;
  engine ??= createEngine({ escapeHtml: false, timeZone: 'UTC', catchAllErrors: true });
  const names: [string, string][] = [];
  try {
    const analysis = engine.analyzeSync(engine.parse(source), { partials: false });
    for (const variables of Object.values(analysis.globals)) {
      for (const v of variables) {
        const [root, property] = v.segments;
        if (typeof root !== 'string' || property === undefined || typeof property === 'object') continue;
        names.push([root, String(property)]);
      }
    }
  } catch {
    // a template that does not parse reads nothing here (validation reports it)
  }
  if (namesBySource.size >= MAX_CACHED_SOURCES) namesBySource.clear();
  namesBySource.set(source, names);
  return names;
}

/**
 * The ids of the fields a message's templates read (`{{ Group.Field }}`, `{{ Group["Field"] }}`),
 * given the account's groups. Templates that do not parse read nothing here (validation reports them).
 */
export function fieldsRead(
  parts: readonly TemplatePart[],
  groups: readonly { name: string; fields: readonly { id: string; name: string }[] }[],
): Set<string> {
  const byName = new Map(groups.map((g) => [g.name, new Map(g.fields.map((f) => [f.name, f.id]))]));
  const used = new Set<string>();
  for (const part of parts) {
    for (const [root, property] of namesRead(part.source)) {
      const id = byName.get(root)?.get(property);
      if (id) used.add(id);
    }
  }
  return used;
}

// ---------------------------------------------------------------------------------------------
// Merchant scope (docs/ARCHITECTURE.md, "Merchant scope"): which merchants a conversation uses.

/** The assignCoupon actions of a document. */
export const couponActions = (doc: ConversationDocument): AssignCoupon[] =>
  allSteps(doc.steps).flatMap((s) => (s.type === 'action' && s.action.type === 'assignCoupon' ? [s.action] : []));

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
  /** Fields an assignCoupon step using another merchant fills: left out of contacts. */
  hiddenFields: Set<string>;
}

type Groups = readonly { name: string; fields: readonly { id: string; name: string }[] }[];

/** The fields a document's steps write (coupon fields, setField) and its committed messages read. */
function fieldsTouched(doc: ConversationDocument, groups: Groups): Set<string> {
  const touched = new Set<string>();
  const byName = new Map(groups.flatMap((g) => g.fields.map((f): [string, string] => [`${g.name}.${f.name}`, f.id])));
  for (const s of allSteps(doc.steps)) {
    // A split reads the fields its conditions name.
    if (s.type === 'split')
      for (const b of s.branches)
        for (const leaf of leavesOf(b.condition))
          if (isFieldCondition(leaf) && byName.has(leaf.field)) touched.add(byName.get(leaf.field)!);
    if (s.type === 'action' && s.action.type === 'assignCoupon') {
      touched.add(s.action.saveCodeTo);
      if (s.action.saveExpirationTo) touched.add(s.action.saveExpirationTo);
    }
    if (s.type === 'action' && s.action.type === 'setField') touched.add(s.action.field);
    if (s.type === 'message' && s.committed) {
      const m = s.committed;
      const parts: TemplatePart[] = [
        { field: 'subject', source: m.subject },
        { field: 'html', source: m.html },
        ...(m.text !== null ? [{ field: 'text' as const, source: m.text }] : []),
      ];
      for (const f of fieldsRead(parts, groups)) touched.add(f);
    }
  }
  return touched;
}

/**
 * What a caller limited to `allowed` must not see, from every document of the account (drafts and
 * every published version), the owners of the pools they name and the field groups. A coupon field
 * belongs to the merchants whose assignCoupon steps fill it (a step uses the merchant it names and
 * the one that owns its pool). A conversation uses a merchant when any of its documents has a step
 * that names it or one of its pools, or writes or reads (in a committed message) one of its coupon
 * fields: its mail could show that merchant's codes.
 */
export function merchantScope(
  documents: readonly { conversationId: string; document: ConversationDocument }[],
  poolMerchants: ReadonlyMap<string, string>,
  groups: Groups,
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
  if (scope.hiddenFields.size === 0) return scope;
  for (const { conversationId, document } of documents) {
    if (scope.hiddenConversations.has(conversationId)) continue;
    for (const f of fieldsTouched(document, groups)) {
      if (scope.hiddenFields.has(f)) {
        scope.hiddenConversations.add(conversationId);
        break;
      }
    }
  }
  return scope;
}

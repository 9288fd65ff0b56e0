import type { Liquid } from 'liquidjs';
import { createEngine } from '../messages/liquid.ts';
import type { TemplatePart } from '../messages/template.ts';
import { allSteps, isFieldCondition, leavesOf, type AssignCoupon, type ConversationDocument, type Step } from './model.ts';
import { partsOf } from './message-step.ts';

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

export type Groups = readonly { name: string; fields: readonly { id: string; name: string }[] }[];

/**
 * The field a condition's `"<Group>.<Field>"` names, as a lookup over the account's groups (group
 * names hold no dot): the one the engine's split (steps.ts), usage and merchant scope share.
 */
export function fieldLookup(groups: Groups): (ref: string) => string | undefined {
  const ids = new Map(groups.flatMap((g) => g.fields.map((f): [string, string] => [`${g.name}.${f.name}`, f.id])));
  return (ref) => ids.get(ref);
}

/** The fields (ids) one step writes (coupon fields, setField) or reads (its split's conditions, its committed message). */
export function fieldsOfStep(step: Step, groups: Groups): Set<string> {
  const out = new Set<string>();
  if (step.type === 'action' && step.action.type === 'assignCoupon') {
    out.add(step.action.saveCodeTo);
    if (step.action.saveExpirationTo) out.add(step.action.saveExpirationTo);
  }
  if (step.type === 'action' && step.action.type === 'setField') out.add(step.action.field);
  if (step.type === 'split') {
    const idOf = fieldLookup(groups);
    for (const leaf of step.branches.flatMap((b) => leavesOf(b.condition))) {
      const id = isFieldCondition(leaf) ? idOf(leaf.field) : undefined;
      if (id) out.add(id);
    }
  }
  if (step.type === 'message' && step.committed) for (const f of fieldsRead(partsOf(step.committed), groups)) out.add(f);
  return out;
}

/** The fields a document's steps write and read ({@link fieldsOfStep} over the whole tree). */
export const fieldsOfDocument = (doc: ConversationDocument, groups: Groups): Set<string> =>
  new Set(allSteps(doc.steps).flatMap((s) => [...fieldsOfStep(s, groups)]));

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
    for (const f of fieldsOfDocument(document, groups)) {
      if (scope.hiddenFields.has(f)) {
        scope.hiddenConversations.add(conversationId);
        break;
      }
    }
  }
  return scope;
}

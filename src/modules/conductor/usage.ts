import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { lockPoolsShared } from '../pools/repo.ts';
import { allSteps, type PublishIssue, type Step } from './model.ts';
import { fieldsOfStep, type Groups } from './references.ts';
import type { UsageJson } from '../lifecycle/model.ts';

/*
 * What conversations use: a pool, a field, a message is "in use" while a conversation
 * that runs could reach it — the live version of a live or paused conversation (not archived), and
 * any version that still has runs in progress (active, held or failed). Drafts use nothing yet: the
 * publish checks refuse a draft whose pool, field or message is gone (or whose pool is archived).
 * Documents are walked generically (any nesting of steps: branches, waits), by the ids they hold.
 *
 * Deleting (fields, groups, messages: not undoable) asks more than archiving a pool: the drafts of
 * unarchived conversations count too (`usageDocuments`), so that a delete never leaves a draft that can no
 * longer be published; the 409 names the draft and its steps.
 */

type Q = Kysely<DB>;

export interface UsedBy {
  type: 'conversation';
  id: string;
  name: string;
  status: string;
}

/** Every object inside a JSON value (depth first). */
function* objectsIn(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) yield* objectsIn(v);
  else if (value && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* objectsIn(v);
  }
}

/** The assignCoupon actions anywhere in a document: `{type: 'assignCoupon', poolId, …}`. */
export const poolIdsIn = (doc: unknown): Set<string> =>
  new Set([...objectsIn(doc)].flatMap((o) => (o.type === 'assignCoupon' && typeof o.poolId === 'string' ? [o.poolId] : [])));

/** The documents that run: live versions of live/paused, unarchived conversations, and versions with runs in progress. */
export async function runningDocuments(db: Q, accountId: string) {
  return db
    .selectFrom('conversation_versions as v')
    .innerJoin('conversations as c', (j) => j.onRef('c.account_id', '=', 'v.account_id').onRef('c.id', '=', 'v.conversation_id'))
    .select(['c.id', 'c.name', 'c.status', 'v.document'])
    .where('v.account_id', '=', accountId)
    .where((eb) =>
      eb.or([
        eb.and([eb('c.status', 'in', ['live', 'paused']), eb('c.archived_at', 'is', null), eb('v.version', '=', eb.ref('c.live_version'))]),
        eb.exists(
          eb
            .selectFrom('enrollments as e')
            .select('e.id')
            .whereRef('e.conversation_id', '=', 'v.conversation_id')
            .whereRef('e.version', '=', 'v.version')
            .where('e.status', 'in', ['active', 'held', 'failed']),
        ),
      ]),
    )
    .orderBy('c.name')
    .execute();
}

/** The conversations whose running documents satisfy `uses`, once each. */
export async function conversationsUsing(db: Q, accountId: string, uses: (doc: unknown) => boolean): Promise<UsedBy[]> {
  const out = new Map<string, UsedBy>();
  for (const d of await runningDocuments(db, accountId)) {
    if (!out.has(d.id) && uses(d.document)) out.set(d.id, { type: 'conversation', id: d.id, name: d.name, status: d.status });
  }
  return [...out.values()];
}

/** Publish: the pools the draft names, locked FOR SHARE (an archive waits, then sees the new version); an archived one is an error. */
export async function archivedPoolIssues(db: Q, accountId: string, doc: unknown): Promise<PublishIssue[]> {
  const pools = await lockPoolsShared(db, accountId, [...poolIdsIn(doc)]);
  return pools
    .filter((p) => p.archived)
    .map((p) => ({ stepId: null, field: 'poolId', message: `the pool "${p.name}" is archived (unarchive it, or use another pool)` }));
}

/** What a delete checks: the drafts of unarchived conversations and every running document. */
export async function usageDocuments(db: Q, accountId: string) {
  const drafts = await db
    .selectFrom('conversations')
    .select(['id', 'name', 'status', 'draft as document'])
    .where('account_id', '=', accountId)
    .where('archived_at', 'is', null)
    .orderBy('name')
    .execute();
  return [...drafts, ...(await runningDocuments(db, accountId))];
}
type UsageDocuments = Awaited<ReturnType<typeof usageDocuments>>;

/** The conversations among `docs` with steps that `uses`, once each, with those steps. */
export function usersIn(docs: UsageDocuments, uses: (step: Step) => boolean): UsageJson[] {
  const out = new Map<string, UsageJson & { steps: { id: string; name: string }[] }>();
  for (const d of docs) {
    const steps = allSteps(d.document.steps ?? []).filter(uses);
    if (steps.length === 0) continue;
    const entry = out.get(d.id) ?? { type: 'conversation' as const, id: d.id, name: d.name, status: d.status, steps: [] };
    for (const s of steps) if (!entry.steps.some((x) => x.id === s.id)) entry.steps.push({ id: s.id, name: s.name });
    out.set(d.id, entry);
  }
  return [...out.values()];
}

/** Who uses each of these fields: conversations (steps that fill them, committed copies that read them). */
export async function fieldUsers(db: Q, accountId: string, fieldIds: readonly string[], groups: Groups): Promise<Map<string, UsageJson[]>> {
  const docs = await usageDocuments(db, accountId);
  return new Map(fieldIds.map((id) => [id, usersIn(docs, (s) => fieldsOfStep(s, groups).has(id))]));
}

/** Who uses a message: conversations whose steps send it (committed or not yet). */
export const messageUsers = async (db: Q, accountId: string, messageId: string): Promise<UsageJson[]> =>
  usersIn(
    await usageDocuments(db, accountId),
    (s) => s.type === 'message' && (s.messageId === messageId || s.committed?.messageId === messageId),
  );

/* What other areas ask the conductor service (poolUsedBy, fieldUsedBy, messageUsedBy) before they archive or delete. */

/** The conversations that use a pool (its archive is refused while any does). */
export const poolUsedBy = (tx: Q, accountId: string, ref: { poolId: string }) =>
  conversationsUsing(tx, accountId, (doc) => poolIdsIn(doc).has(ref.poolId));

/** The conversations that use each of these fields (a field delete is refused while any does). */
export const fieldUsedBy = (tx: Q, accountId: string, fieldIds: string[], groups: Groups) => fieldUsers(tx, accountId, fieldIds, groups);

/** The conversations that send a message (its delete is refused while any does). */
export const messageUsedBy = (tx: Q, accountId: string, messageId: string) => messageUsers(tx, accountId, messageId);

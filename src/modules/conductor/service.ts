import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { DomainError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { findPool } from '../pools/repo.ts';
import { listGroups } from '../segmentation/repo.ts';
import { catalogOf } from '../segmentation/model.ts';
import { validateTemplates } from '../messages/template.ts';
import { partsOf } from './engine.ts';
import { couponActions, fieldsRead, merchantScope, merchantsOfStep, withinMerchants, type MerchantScope } from './references.ts';
import {
  applyEdit,
  checkForPublish,
  dueAt,
  type StepCounts,
  type CommittedMessage,
  type ConversationDocument,
  type ConversationInput,
  type PublishCatalog,
  type PublishIssue,
} from './model.ts';
import * as repo from './repo.ts';
import { exitRedeemedRunsStatement, type RedeemedCode } from './conductor.sql.ts';
import { archivedPoolIssues, conversationsUsing, poolIdsIn } from './usage.ts';

export type { StepCounts };

export interface Conversation {
  id: string;
  name: string;
  status: 'draft' | 'live' | 'paused';
  version: number;
  draft: ConversationDocument;
  createdAt: Date;
  updatedAt: Date;
  stepCounts: Record<string, StepCounts>;
}

export interface EventOutcome {
  enrolled: string[];
  exited: string[];
}

const emptyCounts = (): StepCounts => ({
  entered: 0,
  completed: 0,
  codesAssigned: 0,
  defaultCodes: 0,
  noCode: 0,
  messagesSent: 0,
  exits: 0,
  waiting: 0,
  redeemed: 0,
  revenue: [],
});
const COMPLETED = new Set(['waited', 'assigned', 'default_code', 'no_code', 'field_set', 'sent']);

/** Per conversation and step id: the redemptions of the codes the step handed out (the reports module answers it). */
export type StepRedemptionsOf = (
  conversationIds: string[],
) => Promise<Map<string, Map<string, { redeemed: number; revenue: { currency: string; amount: string }[] }>>>;

export function conductorService(deps: { database: AppDatabase; clock: Clock; stepRedemptions?: StepRedemptionsOf }) {
  const { db } = deps.database;

  async function load(principal: Principal, id: string, tx: Kysely<DB> = db, lock = false): Promise<repo.ConversationRow> {
    const row = await repo.findConversation(tx, principal.accountId, id, lock);
    if (!row) throw notFound('conversation');
    if (principal.merchantIds !== null) {
      await refuseIfHidden(tx, principal.accountId, principal.merchantIds, id);
    }
    return row;
  }

  const usesOtherMerchants = () =>
    forbidden('This conversation uses a merchant this token is not limited to (its pool or its coupon fields).');

  /** 403 when the conversation uses another merchant (the whole account is read: coupon fields are shared). */
  async function refuseIfHidden(tx: Kysely<DB>, accountId: string, allowed: readonly string[], id: string): Promise<void> {
    if ((await scopeFor(tx, accountId, allowed)).hiddenConversations.has(id)) throw usesOtherMerchants();
  }

  async function scopeFor(tx: Kysely<DB>, accountId: string, allowed: readonly string[]): Promise<MerchantScope> {
    const documents = await repo.scopeDocuments(tx, accountId);
    const poolIds = [...new Set(documents.flatMap((d) => couponActions(d.document).map((a) => a.poolId)))];
    return merchantScope(documents, await repo.poolMerchants(tx, accountId, poolIds), await listGroups(tx, accountId), allowed);
  }

  /**
   * What a merchant-limited caller must not see (conversations using other merchants, the fields
   * their pools fill); null for a caller that sees every merchant.
   */
  async function scopeOf(principal: Principal): Promise<MerchantScope | null> {
    return principal.merchantIds === null ? null : scopeFor(db, principal.accountId, principal.merchantIds);
  }

  /** The conversations whose mail a caller sees (undefined: all of them). */
  async function visibleConversations(principal: Principal): Promise<string[] | undefined> {
    const scope = await scopeOf(principal);
    if (!scope) return undefined;
    const ids = await repo.listConversationIds(db, principal.accountId);
    return ids.filter((id) => !scope.hiddenConversations.has(id));
  }

  /**
   * For a merchant-limited caller: does a message read a field hidden from it (a coupon field of
   * another merchant)? Such a message is not the caller's; its test sends are not shown to it.
   * Undefined for a caller that sees every merchant.
   */
  async function readsHiddenFields(
    principal: Principal,
  ): Promise<((m: { subject: string; html: string; text: string | null }) => boolean) | undefined> {
    const scope = await scopeOf(principal);
    if (!scope) return undefined;
    if (scope.hiddenFields.size === 0) return () => false;
    const groups = await listGroups(db, principal.accountId);
    return (m) => {
      const parts = [
        { field: 'subject' as const, source: m.subject },
        { field: 'html' as const, source: m.html },
        ...(m.text !== null ? [{ field: 'text' as const, source: m.text }] : []),
      ];
      return [...fieldsRead(parts, groups)].some((f) => scope.hiddenFields.has(f));
    };
  }

  /**
   * A merchant-limited caller may write only steps that use its merchants: a step naming another
   * merchant is forbidden (403); a pool that is not one of its merchants' is not found (404), as
   * on `/v1/pools/{id}` (whether it exists elsewhere or not at all).
   */
  async function refuseOtherMerchants(tx: Kysely<DB>, principal: Principal, doc: ConversationDocument): Promise<void> {
    const allowed = principal.merchantIds;
    if (allowed === null) return;
    const actions = couponActions(doc);
    const owners = await repo.poolMerchants(tx, principal.accountId, [...new Set(actions.map((a) => a.poolId))]);
    for (const action of actions) {
      if (!allowed.includes(action.merchantId))
        throw forbidden('A token limited to some merchants cannot use another merchant in a conversation.');
      if (!owners.has(action.poolId) || !withinMerchants(merchantsOfStep(action, owners), allowed)) throw notFound('pool');
    }
  }

  /** Per step of each conversation: what its runs did there (all versions, by step id). */
  async function countsFor(conversationIds: string[]): Promise<Map<string, Record<string, StepCounts>>> {
    const out = new Map<string, Record<string, StepCounts>>(conversationIds.map((id) => [id, {}]));
    const at = (conversationId: string, stepId: string) => {
      const steps = out.get(conversationId)!;
      return (steps[stepId] ??= emptyCounts());
    };
    for (const r of await repo.stepOutcomeCounts(db, conversationIds)) {
      const c = at(r.conversation_id, r.step_id);
      const n = Number(r.n);
      c.entered += n;
      if (COMPLETED.has(r.outcome)) c.completed += n;
      if (r.outcome === 'assigned') c.codesAssigned += n;
      if (r.outcome === 'default_code') c.defaultCodes += n;
      if (r.outcome === 'no_code' || r.outcome === 'no_code_exit') c.noCode += n;
      if (r.outcome === 'sent') c.messagesSent += n;
    }
    const positions = await repo.runPositions(db, conversationIds);
    const docs = await repo.findVersions(db, [
      ...new Map(
        positions.map((p) => [`${p.conversation_id}:${p.version}`, { conversationId: p.conversation_id, version: p.version }]),
      ).values(),
    ]);
    for (const p of positions) {
      const step = docs.get(`${p.conversation_id}:${p.version}`)?.steps[p.step_index];
      if (!step) continue;
      // Active runs wait at their step (entered, not done yet); exited runs ended at it.
      if (p.status === 'active') {
        at(p.conversation_id, step.id).entered += Number(p.n);
        if (step.type === 'delay') at(p.conversation_id, step.id).waiting += Number(p.n);
      } else at(p.conversation_id, step.id).exits += Number(p.n);
    }
    for (const [conversationId, steps] of (await deps.stepRedemptions?.(conversationIds)) ?? []) {
      for (const [stepId, r] of steps) Object.assign(at(conversationId, stepId), { redeemed: r.redeemed, revenue: r.revenue });
    }
    return out;
  }

  const toConversation = (row: repo.ConversationRow, counts: Record<string, StepCounts> = {}): Conversation => ({
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.live_version ?? 0,
    draft: row.draft as ConversationDocument,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    stepCounts: counts,
  });

  async function withCounts(rows: repo.ConversationRow[]): Promise<Conversation[]> {
    const counts = await countsFor(rows.map((r) => r.id));
    return rows.map((r) => toConversation(r, counts.get(r.id)));
  }

  const nameTaken = (name: string) => new DomainError('conflict', 'name_taken', `A conversation named "${name}" already exists.`);

  async function createConversation(principal: Principal, input: ConversationInput): Promise<Conversation> {
    const now = deps.clock.now();
    const draft = applyEdit(undefined, input, newId);
    await refuseOtherMerchants(db, principal, draft);
    const row: repo.ConversationRow = {
      account_id: principal.accountId,
      id: newId(),
      name: draft.name,
      status: 'draft',
      trigger_event: draft.trigger.event,
      draft,
      live_version: null,
      created_at: now,
      updated_at: now,
      archived_at: null,
    };
    try {
      await db.transaction().execute(async (tx) => {
        await repo.insertConversation(tx, row);
        if (principal.merchantIds !== null) await refuseIfHidden(tx, principal.accountId, principal.merchantIds, row.id);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'conversations_name_key')) throw nameTaken(draft.name);
      throw err;
    }
    return toConversation(row);
  }

  async function updateConversation(principal: Principal, id: string, input: ConversationInput): Promise<Conversation> {
    try {
      await db.transaction().execute(async (tx) => {
        const row = await load(principal, id, tx, true);
        const draft = applyEdit(row.draft as ConversationDocument, input, newId);
        await refuseOtherMerchants(tx, principal, draft);
        await repo.saveDraft(tx, principal.accountId, id, draft, deps.clock.now());
        // The new draft may fill or read another merchant's coupon field: refused (and rolled back).
        if (principal.merchantIds !== null) await refuseIfHidden(tx, principal.accountId, principal.merchantIds, id);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'conversations_name_key')) throw nameTaken(input.name);
      throw err;
    }
    return getConversation(principal, id);
  }

  async function getConversation(principal: Principal, id: string): Promise<Conversation> {
    return (await withCounts([await load(principal, id)]))[0]!;
  }

  async function listConversations(principal: Principal, page: PageQuery): Promise<Page<Conversation>> {
    const hidden = (await scopeOf(principal))?.hiddenConversations;
    const rows = await repo.listConversations(db, principal.accountId, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      exclude: hidden ? [...hidden] : [],
    });
    const p = toPage(rows, page.limit, (r) => r.id);
    return { items: await withCounts(p.items), nextCursor: p.nextCursor };
  }

  /** Freezes the step's message as it is now: later edits to the message need a new commit. */
  async function commitStep(principal: Principal, id: string, stepId: string): Promise<Conversation> {
    await db.transaction().execute(async (tx) => {
      const row = await load(principal, id, tx, true);
      const draft = row.draft as ConversationDocument;
      const step = draft.steps.find((s) => s.id === stepId);
      if (!step) throw notFound('step');
      if (step.type !== 'message') throw new DomainError('invalid', 'not_a_message_step', 'Only a message step has a message to commit.');
      const message = await tx
        .selectFrom('messages')
        .selectAll()
        .where('account_id', '=', principal.accountId)
        .where('id', '=', step.messageId)
        .executeTakeFirst();
      if (!message)
        throw new DomainError('invalid', 'validation_failed', 'The message of this step does not exist.', [
          { stepId, field: 'messageId', message: 'the message does not exist' },
        ]);
      const committed: CommittedMessage = {
        messageId: message.id,
        committedAt: deps.clock.now().toISOString(),
        name: message.name,
        fromName: message.from_name,
        fromEmail: message.from_email,
        subject: message.subject,
        html: message.html,
        text: message.text,
      };
      const steps = draft.steps.map((s) => (s.id === stepId ? { ...step, committed } : s));
      await repo.saveDraft(tx, principal.accountId, id, { ...draft, steps }, deps.clock.now());
      // A committed message that reads another merchant's coupon field: refused (and rolled back).
      if (principal.merchantIds !== null) await refuseIfHidden(tx, principal.accountId, principal.merchantIds, id);
    });
    return getConversation(principal, id);
  }

  /** The publish checks for the draft against what exists now. */
  async function check(
    tx: Kysely<DB>,
    accountId: string,
    conversationId: string,
    doc: ConversationDocument,
  ): Promise<{ errors: PublishIssue[]; warnings: PublishIssue[] }> {
    const groups = await listGroups(tx, accountId);
    const fields = new Map(groups.flatMap((g) => g.fields.map((f) => [f.id, { group: g.name, name: f.name, type: f.type }] as const)));
    const pools: PublishCatalog['pools'] = new Map();
    const messageIds = new Set<string>();
    for (const s of doc.steps) {
      if (s.type === 'action' && s.action.type === 'assignCoupon' && !pools.has(s.action.poolId)) {
        const pool = await findPool(tx, accountId, s.action.poolId);
        if (pool) pools.set(pool.id, { merchantId: pool.merchantId, name: pool.name, defaultCode: pool.defaultCode !== null });
      }
      if (s.type === 'message') messageIds.add(s.messageId);
    }
    const existing = messageIds.size
      ? await tx
          .selectFrom('messages')
          .select('id')
          .where('account_id', '=', accountId)
          .where('id', 'in', [...messageIds])
          .execute()
      : [];
    const couponFieldsElsewhere = new Set<string>();
    for (const other of await repo.accountDocuments(tx, accountId)) {
      if (other.id === conversationId) continue;
      for (const s of other.draft.steps) {
        if (s.type === 'action' && s.action.type === 'assignCoupon') {
          couponFieldsElsewhere.add(s.action.saveCodeTo);
          if (s.action.saveExpirationTo) couponFieldsElsewhere.add(s.action.saveExpirationTo);
        }
      }
    }
    const catalog = catalogOf(groups);
    return checkForPublish(doc, {
      pools,
      fields,
      messages: new Set(existing.map((m) => m.id)),
      templateProblems: (m) =>
        validateTemplates(partsOf(m), catalog).map(
          (i) => `${i.field} line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}`,
        ),
      fieldsUsed: (m) => fieldsRead(partsOf(m), groups),
      couponFieldsElsewhere,
    });
  }

  async function checkDraft(principal: Principal, id: string) {
    const row = await load(principal, id);
    return check(db, principal.accountId, id, row.draft as ConversationDocument);
  }

  /** Validates the draft and makes it the live version; runs in progress stay on theirs. */
  async function publish(principal: Principal, id: string): Promise<{ version: number; warnings: PublishIssue[] }> {
    return db.transaction().execute(async (tx) => {
      const row = await load(principal, id, tx, true);
      const doc = row.draft as ConversationDocument;
      const { errors, warnings } = await check(tx, principal.accountId, id, doc);
      errors.push(...(await archivedPoolIssues(tx, principal.accountId, doc)));
      if (errors.length > 0) {
        throw new DomainError(
          'invalid',
          'publish_refused',
          `The conversation cannot be published: ${errors[0]!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}.`,
          errors,
          { warnings },
        );
      }
      const version = (row.live_version ?? 0) + 1;
      const now = deps.clock.now();
      await repo.insertVersion(tx, { accountId: principal.accountId, conversationId: id, version, document: doc, publishedAt: now });
      await repo.setStatus(tx, principal.accountId, id, 'live', now, version);
      return { version, warnings };
    });
  }

  async function setPaused(principal: Principal, id: string, paused: boolean): Promise<Conversation> {
    await db.transaction().execute(async (tx) => {
      const row = await load(principal, id, tx, true);
      const from = paused ? 'live' : 'paused';
      if (row.status !== from) {
        throw new DomainError(
          'conflict',
          'invalid_state',
          paused ? 'Only a live conversation can be paused.' : 'Only a paused conversation can be resumed.',
        );
      }
      await repo.setStatus(tx, principal.accountId, id, paused ? 'paused' : 'live', deps.clock.now());
      // Held runs leave the engine's due index while paused (engine jobs, migration 0009).
      await repo.holdRuns(tx, principal.accountId, id, paused, deps.clock.now());
    });
    return getConversation(principal, id);
  }

  /**
   * An event, inside the transaction that records it: ends the runs it is an exit event of, then
   * starts a run in every live conversation it triggers (one active run per contact and
   * conversation; re-entry as the version says).
   */
  async function handleEvent(
    tx: Kysely<DB>,
    event: { accountId: string; contactId: string; type: string },
    merchantIds: string[] | null = null,
  ): Promise<EventOutcome> {
    return (await handleEvents(tx, event.accountId, [event], merchantIds))[0]!;
  }

  /**
   * `handleEvent` for many events at once (the batch intake), with the same outcome as one call
   * per event in order: events are taken in rounds in which each contact appears once, and each
   * round ends runs first, then starts them, in two statements. The events of a merchant-limited
   * caller (`merchantIds`) neither start nor end runs of conversations that use other merchants.
   */
  async function handleEvents(
    tx: Kysely<DB>,
    accountId: string,
    events: { contactId: string; type: string }[],
    merchantIds: string[] | null = null,
  ): Promise<EventOutcome[]> {
    const now = deps.clock.now();
    const outcomes: EventOutcome[] = events.map(() => ({ enrolled: [], exited: [] }));
    const hidden = merchantIds === null ? [] : [...(await scopeFor(tx, accountId, merchantIds)).hiddenConversations];
    const triggered = new Map<string, Awaited<ReturnType<typeof repo.conversationsTriggeredBy>>>();
    for (const type of new Set(events.map((e) => e.type))) {
      triggered.set(
        type,
        (await repo.conversationsTriggeredBy(tx, accountId, type)).filter((c) => !hidden.includes(c.id)),
      );
    }
    let pending = events.map((e, index) => ({ ...e, index }));
    while (pending.length > 0) {
      const seen = new Set<string>();
      const round = pending.filter((e) => !seen.has(e.contactId) && seen.add(e.contactId));
      pending = pending.filter((e) => !round.includes(e));
      const byContact = new Map(round.map((e) => [e.contactId, e.index]));
      for (const left of await repo.exitRunsMany(tx, accountId, round, now, hidden)) {
        const out = outcomes[byContact.get(left.contactId)!]!;
        if (!out.exited.includes(left.conversationId)) out.exited.push(left.conversationId);
      }
      const runs: repo.NewRun[] = round.flatMap((e) =>
        (triggered.get(e.type) ?? []).map((c) => {
          const doc = c.document as ConversationDocument;
          return {
            id: newId(),
            conversationId: c.id,
            version: c.live_version!,
            contactId: e.contactId,
            nextDueAt: dueAt(doc, 'steps.0', now).toISOString(),
            reentry: doc.reentry,
          };
        }),
      );
      for (const started of await repo.enrollMany(tx, accountId, runs, now))
        outcomes[byContact.get(started.contactId)!]!.enrolled.push(started.conversationId);
    }
    return outcomes;
  }

  async function withSteps(rows: repo.EnrollmentRow[]) {
    const runs = await repo.stepRunsOf(
      db,
      rows.map((r) => r.id),
    );
    const byRun = new Map<string, repo.StepRunRow[]>();
    for (const s of runs) byRun.set(s.enrollment_id, [...(byRun.get(s.enrollment_id) ?? []), s]);
    return rows.map((r) => ({ ...r, steps: byRun.get(r.id) ?? [] }));
  }

  async function listEnrollments(principal: Principal, id: string, page: PageQuery) {
    await load(principal, id);
    const rows = await repo.listEnrollments(db, principal.accountId, id, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    const p = toPage(rows, page.limit, (r) => r.id);
    return { items: await withSteps(p.items), nextCursor: p.nextCursor };
  }

  /** A contact's runs with their steps: the contact's journey. */
  async function runsOfContact(accountId: string, contactId: string) {
    return withSteps(await repo.enrollmentsOfContact(db, accountId, contactId));
  }

  /** The fields any conversation of the account saves a code into (test sends show a placeholder there). */
  async function couponCodeFields(accountId: string): Promise<Set<string>> {
    const docs = await repo.accountDocuments(db, accountId);
    return new Set(docs.flatMap((d) => couponActions(d.draft).map((a) => a.saveCodeTo)));
  }

  /** A code was redeemed (in `tx`, the redemption's transaction): the runs it was handed to end, if their version says so. */
  const exitOnRedemption = async (tx: Kysely<DB>, code: Omit<RedeemedCode, 'now'>) =>
    (await exitRedeemedRunsStatement({ ...code, now: deps.clock.now() }).execute(tx)).rows;

  /** The conversations that use a pool (its archive is refused while any does). */
  const poolUsedBy = (tx: Kysely<DB>, accountId: string, ref: { poolId: string }) =>
    conversationsUsing(tx, accountId, (doc) => poolIdsIn(doc).has(ref.poolId));

  return {
    poolUsedBy,
    exitOnRedemption,
    couponCodeFields,
    createConversation,
    updateConversation,
    getConversation,
    listConversations,
    commitStep,
    checkDraft,
    publish,
    setPaused,
    handleEvent,
    handleEvents,
    listEnrollments,
    runsOfContact,
    scopeOf,
    visibleConversations,
    readsHiddenFields,
  };
}

export type ConductorService = ReturnType<typeof conductorService>;
export type EnrollmentWithSteps = Awaited<ReturnType<ConductorService['runsOfContact']>>[number];

/** A run with its steps as the API shows it (enrollments list, a contact's journey). */
export const enrollmentView = (e: EnrollmentWithSteps) => ({
  id: e.id,
  conversationId: e.conversation_id,
  contactId: e.contact_id,
  version: e.version,
  status: e.status,
  exitReason: e.exit_reason,
  stepIndex: e.step_index,
  position: e.status === 'completed' || e.status === 'exited' ? null : `steps.${e.step_index}`,
  waitingFor: null,
  nextDueAt: e.status === 'active' || e.status === 'held' ? e.next_due_at.toISOString() : null,
  attempts: e.attempts,
  lastError: e.last_error,
  createdAt: e.created_at.toISOString(),
  endedAt: e.ended_at?.toISOString() ?? null,
  steps: e.steps.map((s) => ({
    stepId: s.step_id,
    path: null,
    outcome: s.outcome,
    at: s.at.toISOString(),
    ...(s.code !== null ? { code: s.code, expiresAt: s.expires_at?.toISOString() ?? null } : {}),
    ...(s.mail_id !== null ? { messageId: s.mail_id } : {}),
    ...(s.detail !== null ? { detail: s.detail } : {}),
  })),
});

import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { DomainError, forbidden, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { listGroups, lockFieldsShared } from '../segmentation/repo.ts';
import {
  couponActions,
  fieldsOfDocument,
  fieldsRead,
  merchantScope,
  merchantsOfStep,
  withinMerchants,
  type MerchantScope,
} from './references.ts';
import {
  allSteps,
  applyEdit,
  mapSteps,
  withPaths,
  type StepCounts,
  type CommittedMessage,
  type ConversationDocument,
  type ConversationInput,
  type PublishIssue,
} from './model.ts';
import * as repo from './repo.ts';
import { intakeEvents, type EventOutcome, type IntakeEvent } from './intake.ts';
import { countsFor, withSteps, type StepRedemptionsOf } from './readback.ts';
export { enrollmentView, type EnrollmentWithSteps } from './readback.ts';
import { exitRedeemedRunsStatement, type RedeemedCode } from './exit.sql.ts';
import { publishCheck } from './publish.ts';
import { archivedPoolIssues, fieldUsedBy, messageUsedBy, poolUsedBy } from './usage.ts';
import { settingsOps } from './settings.ts';
import { archiveOps } from './archive.ts';

export type { StepCounts };

export interface Conversation {
  id: string;
  name: string;
  status: 'draft' | 'live' | 'paused';
  version: number;
  draft: ConversationDocument;
  createdAt: Date;
  updatedAt: Date;
  /** Set: enrolls nobody, listed apart (runs in progress finish). */
  archivedAt: Date | null;
  stepCounts: Record<string, StepCounts>;
}

export type { EventOutcome };

export type { StepRedemptionsOf };

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

  const toConversation = (row: repo.ConversationRow, counts: Record<string, StepCounts> = {}): Conversation => ({
    id: row.id,
    name: row.name,
    status: row.status,
    version: row.live_version ?? 0,
    draft: row.draft,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    stepCounts: counts,
  });

  async function withCounts(rows: repo.ConversationRow[]): Promise<Conversation[]> {
    const counts = await countsFor(
      db,
      rows.map((r) => r.id),
      deps.clock.now(),
      deps.stepRedemptions,
    );
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
        const draft = applyEdit(row.draft, input, newId);
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

  async function listConversations(principal: Principal, page: PageQuery, archived = false): Promise<Page<Conversation>> {
    const hidden = (await scopeOf(principal))?.hiddenConversations;
    const rows = await repo.listConversations(db, principal.accountId, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      exclude: hidden ? [...hidden] : [],
      archived,
    });
    const p = toPage(rows, page.limit, (r) => r.id);
    return { items: await withCounts(p.items), nextCursor: p.nextCursor };
  }

  /** Freezes the step's message as it is now: later edits to the message need a new commit. */
  async function commitStep(principal: Principal, id: string, stepId: string): Promise<Conversation> {
    await db.transaction().execute(async (tx) => {
      const row = await load(principal, id, tx, true);
      const draft = row.draft;
      const step = allSteps(draft.steps).find((s) => s.id === stepId);
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
      const steps = mapSteps(draft.steps, (s) => (s.id === stepId && s.type === 'message' ? { ...s, committed } : s));
      await repo.saveDraft(tx, principal.accountId, id, { ...draft, steps }, deps.clock.now());
      // A committed message that reads another merchant's coupon field: refused (and rolled back).
      if (principal.merchantIds !== null) await refuseIfHidden(tx, principal.accountId, principal.merchantIds, id);
    });
    return getConversation(principal, id);
  }

  async function checkDraft(principal: Principal, id: string) {
    const row = await load(principal, id);
    return publishCheck(db, principal.accountId, id, row.draft);
  }

  /** Validates the draft and makes it the live version; runs in progress stay on theirs. */
  async function publish(principal: Principal, id: string): Promise<{ version: number; warnings: PublishIssue[] }> {
    return db.transaction().execute(async (tx) => {
      const row = await load(principal, id, tx, true);
      const doc = row.draft;
      if (row.archived_at !== null)
        throw new DomainError('conflict', 'conversation_archived', `The conversation "${row.name}" is archived: unarchive it to publish.`);
      // The fields it writes or reads, locked FOR SHARE (a field delete waits, or has gone first and the checks see it gone).
      const groups = await listGroups(tx, principal.accountId);
      await lockFieldsShared(tx, principal.accountId, [...fieldsOfDocument(doc, groups)]);
      const { errors, warnings } = await publishCheck(tx, principal.accountId, id, doc);
      errors.push(...withPaths(doc, await archivedPoolIssues(tx, principal.accountId, doc)));
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
   * An event, inside the transaction that records it: ends the runs it is an exit event of, wakes
   * the runs waiting for it, then starts a run in every live conversation it triggers and whose
   * trigger filter it passes (one active run per contact and conversation; re-entry as the version says).
   */
  async function handleEvent(
    tx: Kysely<DB>,
    event: IntakeEvent & { accountId: string },
    merchantIds: string[] | null = null,
  ): Promise<EventOutcome> {
    return (await handleEvents(tx, event.accountId, [event], merchantIds))[0]!;
  }

  /**
   * `handleEvent` for many events at once (the batch intake; intake.ts), with the same outcome as
   * one call per event in order. The events of a merchant-limited caller (`merchantIds`) neither
   * start, wake nor end runs of conversations that use other merchants.
   */
  async function handleEvents(
    tx: Kysely<DB>,
    accountId: string,
    events: IntakeEvent[],
    merchantIds: string[] | null = null,
  ): Promise<EventOutcome[]> {
    const hidden = merchantIds === null ? [] : [...(await scopeFor(tx, accountId, merchantIds)).hiddenConversations];
    return intakeEvents(tx, accountId, events, hidden, deps.clock.now());
  }

  async function listEnrollments(principal: Principal, id: string, page: PageQuery) {
    await load(principal, id);
    const rows = await repo.listEnrollments(db, principal.accountId, id, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    const p = toPage(rows, page.limit, (r) => r.id);
    return { items: await withSteps(db, p.items), nextCursor: p.nextCursor };
  }

  /** A contact's runs with their steps: the contact's journey. */
  async function runsOfContact(accountId: string, contactId: string) {
    return withSteps(db, await repo.enrollmentsOfContact(db, accountId, contactId));
  }

  /** The fields any conversation of the account saves a code into (test sends show a placeholder there). */
  async function couponCodeFields(accountId: string): Promise<Set<string>> {
    const docs = await repo.accountDocuments(db, accountId);
    return new Set(docs.flatMap((d) => couponActions(d.draft).map((a) => a.saveCodeTo)));
  }

  /**
   * Codes were redeemed (in `tx`, the redemptions' transaction): the runs they were handed to end, if their version says so.
   * Set-wise: one statement for all the codes of a checkout, file chunk or event batch. Answers the runs ended.
   */
  const exitOnRedemption = async (tx: Kysely<DB>, accountId: string, codes: readonly RedeemedCode[]) =>
    codes.length === 0 ? [] : (await exitRedeemedRunsStatement({ accountId, codes, now: deps.clock.now() }).execute(tx)).rows;

  const archive = archiveOps({ db, clock: deps.clock, load: (p, id, tx, lock) => load(p, id, tx, lock) });
  const { settings, saveSettings } = settingsOps({ db, clock: deps.clock });

  return {
    ...archive,
    fieldUsedBy,
    messageUsedBy,
    settings,
    saveSettings,
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
